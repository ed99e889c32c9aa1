"""The WSGI app a PyWPS 4 deployment serves: the ``Service`` at /wps, stored results at /outputs/.

``gunicorn --bind unix:/pywps/out/socket/wps.sock wps4demo.app:application`` with ``PYWPS_CFG`` naming the
configuration (docker_transport = wps writes one per job into the container's input mount).
"""

from __future__ import annotations

import mimetypes
import os

from werkzeug.security import safe_join
from werkzeug.wsgi import wrap_file

from pywps import Service, configuration
from wps4demo.processes import processes

_CFG = [os.environ["PYWPS_CFG"]] if os.environ.get("PYWPS_CFG") else None
service = Service(processes=processes(), cfgfiles=_CFG)


def _outputs(environ, start_response):
    root = configuration.get_config_value("server", "outputpath")
    path = safe_join(root, environ.get("PATH_INFO", "")[len("/outputs/"):])
    if path is None or not os.path.isfile(path):
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    start_response("200 OK", [("Content-Type", kind), ("Content-Length", str(os.path.getsize(path)))])
    return wrap_file(environ, open(path, "rb"))


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith("/outputs/"):
        return _outputs(environ, start_response)
    return service(environ, start_response)
