"""The ``Process`` definition: identification, inputs, outputs and handler; no per-job state (PyWPS 4 API)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from pywps.exceptions import InvalidParameterValue
from pywps.metadata import Metadata

log = logging.getLogger(__name__)


class Process:
    """A WPS process: ``handler(request, response)`` plus its description."""

    def __init__(self, handler: Callable[[Any, Any], Any], identifier: str, title: str, abstract: str = "",
                 keywords: list[str] | None = None, profile: list[str] | str | None = None,
                 metadata: list[Metadata] | None = None, inputs: list[Any] | None = None,
                 outputs: list[Any] | None = None, version: str = "None", store_supported: bool = False,
                 status_supported: bool = False, grass_location: str | None = None,
                 translations: dict[str, dict[str, str]] | None = None) -> None:
        from pywps.inout.basic import lower_case_dict

        self.handler = handler
        self.identifier = identifier
        self.title = title
        self.abstract = abstract or ""
        self.keywords = list(keywords or [])
        self.profile = [profile] if isinstance(profile, str) else list(profile or [])
        self.metadata = list(metadata or [])
        self.inputs = list(inputs or [])
        self.outputs = list(outputs or [])
        self.version = version
        self.store_supported = SupportFlag(store_supported)
        self.status_supported = SupportFlag(status_supported)
        self.grass_location = grass_location
        self.translations = lower_case_dict(translations)
        self.workdir: str | None = None
        self.uuid: str | None = None
        self._check_identifiers()

    def _check_identifiers(self) -> None:
        for kind, items in (("input", self.inputs), ("output", self.outputs)):
            seen: set[str] = set()
            for item in items:
                if item.identifier in seen:
                    raise InvalidParameterValue(
                        f"process {self.identifier!r} declares {kind} {item.identifier!r} twice",
                        locator=item.identifier)
                seen.add(item.identifier)

    def set_workdir(self, workdir: str | None) -> None:
        """Set the working directory of the process and of its inputs and outputs."""
        self.workdir = workdir
        for item in (*self.inputs, *self.outputs):
            item.workdir = workdir

    @property
    def status_filename(self) -> str:
        """The file name of the stored status document of the current job."""
        return f"{self.uuid}.xml"

    @property
    def status_url(self) -> str:
        """Where the status document of the current job is published (``[server] outputurl``)."""
        from pywps.configuration import get_config

        return f"{get_config().outputurl}{self.status_filename}"

    @property
    def status_location(self) -> str:
        """The path of the status document of the current job (``[server] outputpath``)."""
        from pywps.configuration import get_config

        return os.path.join(str(get_config().outputpath), self.status_filename)

    def get_input(self, identifier: str) -> Any | None:
        """The input definition with this identifier, or None."""
        return next((i for i in self.inputs if i.identifier == identifier), None)

    def get_output(self, identifier: str) -> Any | None:
        """The output definition with this identifier, or None."""
        return next((o for o in self.outputs if o.identifier == identifier), None)

    @property
    def json(self) -> dict[str, Any]:
        """The process description as a dict."""
        return {
            "class": f"{type(self).__module__}:{type(self).__name__}",
            "uuid": self.uuid,
            "workdir": self.workdir,
            "version": self.version,
            "identifier": self.identifier,
            "title": self.title,
            "abstract": self.abstract,
            "keywords": self.keywords,
            "metadata": [m.json for m in self.metadata],
            "inputs": [i.json for i in self.inputs],
            "outputs": [o.json for o in self.outputs],
            "store_supported": self.store_supported,
            "status_supported": self.status_supported,
            "profile": self.profile,
            "translations": self.translations,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Process:
        """A description-only Process (its handler raises) from :attr:`json`."""
        from pywps.inout.inputs import input_from_json
        from pywps.inout.outputs import output_from_json

        def no_handler(request: Any, response: Any) -> Any:
            raise NotImplementedError(f"process {value['identifier']!r} was built from JSON; no handler")

        process = cls(
            no_handler, value["identifier"], value.get("title", ""), abstract=value.get("abstract", ""),
            keywords=value.get("keywords"), profile=value.get("profile"),
            metadata=[Metadata.from_json(m) for m in value.get("metadata", [])],
            inputs=[input_from_json(i) for i in value.get("inputs", [])],
            outputs=[output_from_json(o) for o in value.get("outputs", [])],
            version=value.get("version", "None"), store_supported=value.get("store_supported", False),
            status_supported=value.get("status_supported", False), translations=value.get("translations"),
        )
        process.uuid = value.get("uuid")
        return process

    def __repr__(self) -> str:
        return f"<Process {self.identifier!r}>"


def _as_bool(value: Any) -> bool:
    """Booleans, or 'true'/'false' strings (PyWPS 4 would have taken the string 'false' as true)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class SupportFlag(str):
    """``'true'`` or ``'false'`` as PyWPS 4 stored ``store_supported``/``status_supported``, with the truth
    value of the word, and equal to the matching bool too (``flag == 'true'`` and ``if flag:`` both work)."""

    def __new__(cls, value: Any) -> SupportFlag:
        return super().__new__(cls, "true" if _as_bool(value) else "false")

    def __bool__(self) -> bool:
        return str.__eq__(self, "true")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return bool(self) is other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__
