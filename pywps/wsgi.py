"""A ready WSGI entry point: ``gunicorn pywps.wsgi:application`` serves the example processes.

Set ``PYWPS_CFG`` to your ``pywps.cfg`` and ``PYWPS_PROCESSES`` to ``module:attribute`` (a list of
processes) to serve your own. Apache mod_wsgi users can copy ``docs/pywps.wsgi`` instead.
"""

from __future__ import annotations

import os

from pywps.cli import load_processes
from pywps.service import Service

application = Service(processes=load_processes(os.environ.get("PYWPS_PROCESSES")),
                      cfgfiles=[os.environ["PYWPS_CFG"]] if os.environ.get("PYWPS_CFG") else None)
