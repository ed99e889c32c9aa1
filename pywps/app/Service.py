"""PyWPS 4 import path ``pywps.app.Service``."""

from pywps.service import Service, create_app

__all__ = ["Service", "create_app"]
