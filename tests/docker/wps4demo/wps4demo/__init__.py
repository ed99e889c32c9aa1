"""A PyWPS 4 process module and its WSGI app, for the ``docker_transport = wps`` tests (tests/docker)."""
