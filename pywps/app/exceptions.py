"""``ProcessError``: a failure a process reports to the client in its own (sanitised) words (PyWPS 4 API)."""

from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

DEFAULT_ALLOWED_CHARS = ".:!?=,;-_/"


def format_message(text: str, min_length: int = 3, max_length: int = 300,
                   allowed_chars: str | None = None) -> str:
    """Keep words and a few punctuation characters; '' when shorter than ``min_length``.

    ``text`` must be a string (a TypeError otherwise): ``ProcessError`` then falls back to its default
    message, so an exception object passed as message never reaches the client.
    """
    keep = re.escape(allowed_chars or DEFAULT_ALLOWED_CHARS)
    words = re.findall(rf"[\w{keep}]+", text)
    message = " ".join(words).strip()
    if len(message) < min_length:
        return ""
    return message[:max_length]


class ProcessError(Exception):
    """Raise in a handler to fail the job with a message the client sees (after sanitising)."""

    default_msg = "Sorry, process failed. Please check server error log."

    def __init__(self, msg: str | None = None, min_length: int = 3, max_length: int = 300,
                 allowed_chars: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.min_length = min_length
        self.max_length = max_length
        self.allowed_chars = allowed_chars or DEFAULT_ALLOWED_CHARS

    @property
    def message(self) -> str:
        """The sanitised message, or the default one when nothing presentable is left."""
        if self.msg is None:
            return self.default_msg
        try:
            text = format_message(self.msg, self.min_length, self.max_length, self.allowed_chars)
        except Exception as exc:  # noqa: BLE001 - a message that is not text: use the default one
            log.warning("formatting a ProcessError message failed: %s", exc)
            text = ""
        return text or self.default_msg

    def __str__(self) -> str:
        return self.message
