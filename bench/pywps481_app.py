"""WSGI entry point for PyWPS 4.8.1, used only as the baseline in bench_ops.py (run inside its own venv).

It serves the very same example processes as this repository: ``pywps/processes/examples.py`` is written
against the PyWPS 4 process API and is loaded here from its file, so both servers describe and run
identical process definitions. PyWPS 4.8.1 exports ``Metadata`` from ``pywps.app.Common`` only, so it is
made importable from ``pywps`` first.

    PYWPS_CFG=/tmp/x/pywps.cfg gunicorn --pythonpath bench pywps481_app:application
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pywps
from pywps import Service
from pywps.app.Common import Metadata

EXAMPLES = Path(os.environ.get("BENCH_EXAMPLES",
                               Path(__file__).resolve().parent.parent / "pywps" / "processes" / "examples.py"))
CLASSES = ("SayHello", "Add", "Sleep", "ComplexEcho", "BinaryEcho", "BoundingBoxEcho", "MultipleOutputs", "Fail")


def _load_examples() -> list:
    if not hasattr(pywps, "Metadata"):
        pywps.Metadata = Metadata
    spec = importlib.util.spec_from_file_location("bench_examples", EXAMPLES)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [getattr(module, name)() for name in CLASSES]


application = Service(processes=_load_examples(), cfgfiles=[os.environ["PYWPS_CFG"]])
