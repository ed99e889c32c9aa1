# PyWPS under Apache mod_wsgi: copy this file unchanged to /etc/pywps/pywps.wsgi (docs/deploy.md).
#
# The configuration is $PYWPS_CFG when Apache's environment sets it, else pywps.cfg next to this file.
# The processes are $PYWPS_PROCESSES (module:attribute, a list of processes), else the example processes;
# set it in /etc/apache2/envvars (export PYWPS_PROCESSES=myprocesses:processes) and make the module
# importable: installed into the venv named by python-home, or its directory on python-path=.
# docs/apache/pywps.conf preloads this script (WSGIImportScript), so every daemon process starts its
# job dispatcher when it starts, not at its first request.
import os

os.environ.setdefault("PYWPS_CFG", os.path.join(os.path.dirname(os.path.abspath(__file__)), "pywps.cfg"))

from pywps.wsgi import application  # noqa: E402,F401
