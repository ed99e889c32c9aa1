"""Tiny processes the scheduler tests run on the cluster (imported by the worker through job.json)."""

from __future__ import annotations

import time

from pywps import ComplexOutput, Format, LiteralInput, LiteralOutput, Process
from pywps.app.exceptions import ProcessError


class Greeter(Process):
    """Says hello by value and writes a report file."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, identifier="greeter", title="Greeter",
            inputs=[LiteralInput("name", "Name", data_type="string")],
            outputs=[LiteralOutput("greeting", "Greeting", data_type="string"),
                     ComplexOutput("report", "Report", supported_formats=[Format("text/plain")])],
            store_supported=True, status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        name = request.inputs["name"][0].data
        response.update_status("greeting", 50)
        response.outputs["greeting"].data = f"Hello {name}"
        response.outputs["report"].data = f"report for {name}\n"
        return response


class Failing(Process):
    """Always fails with a message for the client."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, identifier="failing", title="Failing",
            outputs=[LiteralOutput("out", "Never", data_type="string")],
            store_supported=True, status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        raise ProcessError("the river is frozen")


class Sleeper(Process):
    """Sleeps for ``delay`` seconds."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, identifier="sleeper", title="Sleeper",
            inputs=[LiteralInput("delay", "Seconds", data_type="float")],
            outputs=[LiteralOutput("out", "Done", data_type="string")],
            store_supported=True, status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        delay = float(request.inputs["delay"][0].data)
        end = time.monotonic() + delay
        while time.monotonic() < end:
            response.update_status("sleeping", int(100 * (1 - (end - time.monotonic()) / delay)))
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        response.outputs["out"].data = "awake"
        return response


class Hog(Process):
    """Allocates ``megabytes`` of memory and holds it for a moment."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, identifier="hog", title="Hog",
            inputs=[LiteralInput("megabytes", "MiB", data_type="integer")],
            outputs=[LiteralOutput("out", "Done", data_type="string")],
            store_supported=True, status_supported=True,
        )

    @staticmethod
    def _handler(request, response):
        size = int(request.inputs["megabytes"][0].data) * 1024 * 1024
        block = bytearray(size)
        for i in range(0, size, 4096):
            block[i] = 1
        time.sleep(2)
        response.outputs["out"].data = f"held {len(block)} bytes"
        return response
