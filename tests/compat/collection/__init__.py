"""A process collection laid out as PyWPS 4 collections are: the package builds its WSGI app at import
from its own default.cfg; its tests then create bare ``Service(processes=...)`` objects and expect that
configuration (languages, allowed input paths, metadata, its own section)."""

from __future__ import annotations

from pathlib import Path

from pywps import LiteralInput, LiteralOutput, Process, Service
from pywps.configuration import get_config_value

DEFAULT_CFG = Path(__file__).with_name("default.cfg")


class ArchivePath(Process):
    """Tells where the collection keeps its archive (read from its own configuration section)."""

    def __init__(self) -> None:
        super().__init__(self._handler, identifier="archive_path", title="Where is the archive",
                         inputs=[LiteralInput("item", "Item name", data_type="string")],
                         outputs=[LiteralOutput("path", "Path of the item", data_type="string")])

    @staticmethod
    def _handler(request, response):
        root = get_config_value("collection", "archive", "(unset)")
        response.outputs["path"].data = f"{root}/{request.inputs['item'][0].data}"
        return response


def processes() -> list[Process]:
    return [ArchivePath()]


application = Service(processes=processes(), cfgfiles=[str(DEFAULT_CFG)])
