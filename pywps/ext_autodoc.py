"""Sphinx extension documenting processes (PyWPS 4 import path of ``MetadataUrl`` too).

``extensions = ["pywps.ext_autodoc"]`` in a Sphinx ``conf.py`` adds the ``autoprocess`` directive: it
instantiates the Process subclass and writes its title, abstract, inputs, outputs and metadata links as a
NumPy style docstring.  Options: ``:docstring:`` appends the class docstring, ``:skiplines: N`` drops its
first N lines.  Sphinx is imported only by :func:`setup`, so importing this module needs no Sphinx.
"""

from __future__ import annotations

from typing import Any

from pywps.metadata import Metadata, MetadataUrl

__all__ = ["Metadata", "MetadataUrl", "describe_type", "process_doc_lines", "setup"]

_LIST_MAX = 10


def _clip(items: list[str]) -> str:
    text = ", ".join(items[:_LIST_MAX])
    return text + (", ..." if len(items) > _LIST_MAX else "")


def describe_type(item: Any) -> str:
    """One line on an input or output: allowed values, data type, formats or CRSs; optional, default, units."""
    parts: list[str] = []
    allowed = [a for a in getattr(item, "allowed_values", None) or [] if getattr(a, "value", None) is not None]
    if allowed:
        parts.append("{" + _clip([f"'{a.value}'" for a in allowed]) + "}")
    elif getattr(item, "data_type", None):
        parts.append(item.data_type)
    elif getattr(item, "supported_formats", None):
        parts.append(", ".join(f":mimetype:`{f.mime_type}`" for f in item.supported_formats))
    elif getattr(item, "crss", None):
        parts.append("[" + _clip(list(item.crss)) + "]")
    text = "".join(parts)
    if getattr(item, "min_occurs", None) == 0:
        text += ", optional"
        default = getattr(item, "default", None)
        if default:
            text += f", default:{default}"
    uoms = getattr(item, "uoms", None)
    if uoms:
        text += ", units:[" + ", ".join(u.uom for u in uoms) + "]"
    return text


def _link(meta: Any) -> str | None:
    if isinstance(meta, dict):
        title, href = meta.get("title"), meta.get("href")
    else:
        title, href = getattr(meta, "title", None), getattr(meta, "href", None)
    if not (title and href):
        return None
    anonymous = "_" if getattr(meta, "anonymous", False) else ""
    return f"`{title} <{href}>`_{anonymous}"


def process_doc_lines(process: Any) -> list[str]:
    """The NumPy style docstring lines of a process instance."""
    lines = [f":program:`{process.identifier}` {process.title} (v{process.version or ''})", "",
             process.abstract or "", "", "Parameters", "----------"]
    for item in process.inputs:
        lines.append(f"{item.identifier} : {describe_type(item)}")
        text = f"    {item.abstract or item.title}"
        links = [link for link in (_link(m) for m in item.metadata or []) if link]
        if links:
            text += " (" + ", ".join(links) + ")"
        lines.append(text)
    lines += ["", "Returns", "-------"]
    for item in process.outputs:
        lines.append(f"{item.identifier} : {describe_type(item)}")
        lines.append(f"    {item.abstract or item.title}")
    lines += ["", ""]
    references = [link for link in (_link(m) for m in process.metadata or []) if link]
    if references:
        lines += ["References", "----------", ""] + [f" - {link}" for link in references] + [""]
    return lines


def _documenter() -> type:
    """Build the autodoc documenter class (imports Sphinx)."""
    from docutils.parsers.rst import directives
    from sphinx.ext.autodoc import ClassDocumenter, bool_option
    from sphinx.ext.napoleon.docstring import NumpyDocstring
    from sphinx.util.docstrings import prepare_docstring

    from pywps.process import Process

    class ProcessDocumenter(ClassDocumenter):
        """``autoprocess``: a Process subclass documented from an instance of it."""

        objtype = "process"
        directivetype = "class"
        priority = ClassDocumenter.priority + 1
        option_spec = {**ClassDocumenter.option_spec, "skiplines": directives.nonnegative_int,
                       "docstring": bool_option}

        @classmethod
        def can_document_member(cls, member: Any, membername: str, isattr: bool, parent: Any) -> bool:
            return isinstance(member, type) and issubclass(member, Process)

        def get_doc(self, *args: Any, **kwargs: Any) -> list[list[str]]:
            lines = process_doc_lines(self.object())
            own = self.get_attr(self.object, "__doc__", None)
            if self.options.get("docstring") and isinstance(own, str):
                lines += prepare_docstring(own)[self.options.get("skiplines") or 0:]
            parsed = NumpyDocstring(lines, self.env.config, self.env.app, what="class", obj=self.object,
                                    options=self.options)
            return [parsed.lines()]

    return ProcessDocumenter


def setup(app: Any) -> dict[str, Any]:
    """Sphinx entry point: register the ``autoprocess`` directive."""
    app.add_autodocumenter(_documenter())
    return {"parallel_read_safe": True}
