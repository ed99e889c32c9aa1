"""A process collection as a third party writes one for PyWPS 4: public API only, one process per module."""

from tests.compat.emu.processes.wps_bbox import Box
from tests.compat.emu.processes.wps_config import ShowConfig
from tests.compat.emu.processes.wps_error import ShowError
from tests.compat.emu.processes.wps_hello import Hello
from tests.compat.emu.processes.wps_inout import InOut
from tests.compat.emu.processes.wps_metalink import MultipleOutputs
from tests.compat.emu.processes.wps_nostore import NoStore
from tests.compat.emu.processes.wps_output_formats import OutputFormats
from tests.compat.emu.processes.wps_sleep import Sleep
from tests.compat.emu.processes.wps_translation import Translation
from tests.compat.emu.processes.wps_uom import Distance
from tests.compat.emu.processes.wps_wordcounter import WordCounter

PROCESS_CLASSES = [Hello, InOut, WordCounter, OutputFormats, MultipleOutputs, Sleep, ShowError, Translation,
                   Distance, Box, ShowConfig, NoStore]


def processes():
    """One fresh instance of every process (what a WSGI file of the collection would list)."""
    return [cls() for cls in PROCESS_CLASSES]
