"""Logging: stderr (never stdout: it carries the protocol), an optional file, and the editor's log via
``window/logMessage``. Every line passes the credential redactor, whichever logger wrote it."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable

from lsprotocol import types

from qwen_lsp.clients.remote.redaction import redact_text

_LEVELS = {
    logging.ERROR: types.MessageType.Error,
    logging.WARNING: types.MessageType.Warning,
    logging.INFO: types.MessageType.Info,
    logging.DEBUG: types.MessageType.Log,
}


_REDACTED = "_qwen_lsp_redacted"  # (message, its redacted text) on a record


class RedactingFormatter(logging.Formatter):
    """A formatter whose lines (tracebacks included) have credential-like values replaced: a key quoted by an error
    or echoed in a model's raw output at debug level never reaches a log as it is.

    Only the message, the traceback and the stack can hold one (the rest is the logger's name, level and time), and
    they are redacted once per record, whichever handler (stderr, log file, editor) formats it first."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        raw = record.message
        redacted: tuple[str, str] | None = getattr(record, _REDACTED, None)
        if redacted is None or redacted[0] != raw:
            redacted = (raw, redact_text(raw)[0])
            setattr(record, _REDACTED, redacted)
        record.message = redacted[1]
        try:
            return super().formatMessage(record)
        finally:
            record.message = raw

    def formatException(self, ei) -> str:
        # logging keeps the result on the record (exc_text) for the other handlers
        return redact_text(super().formatException(ei))[0]

    def formatStack(self, stack_info: str) -> str:
        return redact_text(super().formatStack(stack_info))[0]


class EditorLogHandler(logging.Handler):
    """Forwards records to the client; re-entrant calls (logging from inside the send) are dropped."""

    def __init__(self, send: Callable[[types.LogMessageParams], None]) -> None:
        super().__init__(logging.INFO)
        self._send = send
        self._busy = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "active", False) or record.name.startswith("pygls"):
            return
        if record.name.startswith("qwen_lsp.llama_cpp") and record.levelno < logging.WARNING:
            return  # llama.cpp's load log is hundreds of lines: stderr keeps it, the editor gets problems only
        self._busy.active = True
        try:
            level = max((lvl for lvl in _LEVELS if lvl <= record.levelno), default=logging.DEBUG)
            self._send(types.LogMessageParams(type=_LEVELS[level], message=self.format(record)))
        except Exception:
            pass  # the editor's log is best effort; stderr still has the record
        finally:
            self._busy.active = False


def setup_logging(level: str = "info", log_file: str | None = None) -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    logging.getLogger("pygls").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("openai").setLevel(logging.WARNING)


def attach_editor_log(send: Callable[[types.LogMessageParams], None]) -> EditorLogHandler:
    handler = EditorLogHandler(send)
    handler.setFormatter(RedactingFormatter("%(name)s: %(message)s"))
    logging.getLogger("qwen_lsp").addHandler(handler)
    return handler
