"""Example processes shipped with the server, written against the PyWPS 4 process API only."""

from __future__ import annotations

from pywps.processes.examples import (
    Add,
    BinaryEcho,
    BoundingBoxEcho,
    ComplexEcho,
    Fail,
    MultipleOutputs,
    SayHello,
    Sleep,
)

EXAMPLE_CLASSES = [SayHello, Add, Sleep, ComplexEcho, BinaryEcho, BoundingBoxEcho, MultipleOutputs, Fail]


def example_processes() -> list:
    """Fresh instances of every example process."""
    return [cls() for cls in EXAMPLE_CLASSES]


__all__ = ["EXAMPLE_CLASSES", "example_processes"] + [cls.__name__ for cls in EXAMPLE_CLASSES]
