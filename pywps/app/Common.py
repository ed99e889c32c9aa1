"""PyWPS 4 import path ``pywps.app.Common``."""

from pywps.metadata import *  # noqa: F403
from pywps.metadata import Metadata, MetadataUrl

__all__ = ["Metadata", "MetadataUrl"]
