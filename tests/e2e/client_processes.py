"""What the client tests (birdy) are served: the example processes plus a box built from four numbers."""

from __future__ import annotations

from pywps import BoundingBoxOutput, LiteralInput, Process
from pywps.processes import example_processes


class BoxFromNumbers(Process):
    """Four literal numbers in, one bounding box out (a bbox output behind literal inputs)."""

    def __init__(self) -> None:
        sides = [LiteralInput(side, f"The {side} edge", data_type="float")
                 for side in ("west", "south", "east", "north")]
        super().__init__(
            self._handler, identifier="box_from_numbers", title="Box from four edges",
            abstract="Makes a bounding box out of its west, south, east and north edges.",
            inputs=sides, outputs=[BoundingBoxOutput("box", "The box", crss=["EPSG:4326"])],
            store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        edges = [request.inputs[side][0].data for side in ("west", "south", "east", "north")]
        response.outputs["box"].data = edges
        return response


def processes() -> list:
    return [*example_processes(), BoxFromNumbers()]
