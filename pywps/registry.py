"""Where a job finds its process: ``process_spec`` (how a worker elsewhere imports it), ``preload`` (the
processes a server already imported, for the workers it forks) and ``load_process``.

The server writes a process's spec into ``job.json``; the worker — forked, in a container or on a batch
node — loads the process from it. Pure stdlib plus the Process API: the worker imports this.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from pywps.exceptions import NoApplicableCode

_PRELOADED: dict[str, Any] = {}


def preload(processes: list[Any]) -> None:
    """Make already-imported process objects available to forked workers."""
    _PRELOADED.update({p.identifier: p for p in processes})


def process_spec(process: Any) -> dict[str, Any]:
    """How a worker elsewhere finds ``process``: its class, or the module holding the instance."""
    from pywps.process import Process

    cls = type(process)
    if cls is Process:
        module, qualname = getattr(process.handler, "__module__", ""), ""
    else:
        module, qualname = cls.__module__, cls.__qualname__
    main = sys.modules.get(module)
    path = getattr(main, "__file__", None)
    sys_path = []
    if path and module:
        root = Path(path).resolve().parent
        for _ in range(module.count(".")):
            root = root.parent
        sys_path.append(str(root))
    return {"identifier": process.identifier, "module": module, "qualname": qualname, "sys_path": sys_path}


def load_process(spec: dict[str, Any]) -> Any:
    """Import the process described by ``spec`` (see :func:`process_spec`)."""
    identifier = spec["identifier"]
    if identifier in _PRELOADED:
        return _PRELOADED[identifier]
    for entry in spec.get("sys_path", []):
        if entry not in sys.path and os.path.isdir(entry):
            sys.path.append(entry)
    module = importlib.import_module(spec["module"])
    if spec.get("qualname"):
        target: Any = module
        for part in spec["qualname"].split("."):
            target = getattr(target, part)
        return target() if isinstance(target, type) else target
    from pywps.process import Process

    for value in vars(module).values():
        candidates = value if isinstance(value, (list, tuple)) else [value]
        for item in candidates:
            if isinstance(item, Process) and item.identifier == identifier:
                return item
    raise NoApplicableCode(f"process {identifier!r} not found in module {spec['module']!r}")
