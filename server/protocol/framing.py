"""LSP base-protocol framing over stdio that survives a bad frame.

pygls 2.1.1 reads ``Content-Length`` with an exact, case-sensitive pattern and reads whatever length it is given:
``Content-Length: 1000000000000`` ends the server with MemoryError, and a frame with a missing, lowercase,
negative or non-numeric length leaves it waiting for a header that never matches (alive but deaf). Here header
names are case-insensitive, the frame size is capped, a bad frame is reported (the caller answers it with a
JSON-RPC error, id null) and the reader resynchronises on the next ``Content-Length`` header.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import BinaryIO

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 8 * 1024
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_LINE = re.compile(rb"[ \t]*([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.*?)[ \t]*")
_MARKER = b"content-length:"
_HEADER_NAMES = re.compile(rb"content-(?:length|type)[ \t]*:", re.IGNORECASE)
_LENGTH = re.compile(rb"[0-9]{1,20}")
_SKIPPED = -1  # a block of junk was dropped: look again


@dataclass(frozen=True)
class BadFrame:
    """A frame that cannot be read; ``reason`` is for the error answer."""

    reason: str


class FrameDecoder:
    """Bytes in, frame bodies (``bytes``) and ``BadFrame``s out."""

    def __init__(self, max_frame: int = MAX_FRAME_BYTES, max_header: int = MAX_HEADER_BYTES) -> None:
        self.max_frame = max_frame
        self.max_header = max_header
        self._buffer = bytearray()
        self._body_length: int | None = None
        self._skipping = False  # inside an over-long header that was already reported

    def feed(self, data: bytes) -> list[bytes | BadFrame]:
        self._buffer += data
        out: list[bytes | BadFrame] = []
        while True:
            if self._body_length is None:
                header = self._read_header()
                if header is None:
                    return out
                if header == _SKIPPED:
                    continue
                if isinstance(header, BadFrame):
                    out.append(header)
                    continue
                self._body_length = header
            if len(self._buffer) < self._body_length:
                return out
            out.append(bytes(self._buffer[: self._body_length]))
            del self._buffer[: self._body_length]
            self._body_length = None

    def _read_header(self) -> int | BadFrame | None:
        """The body length of the next frame, a BadFrame (its header consumed), _SKIPPED, or None (need more)."""
        end = _HEADER_END.search(self._buffer, 0, self.max_header + 4)
        if end is None:
            if len(self._buffer) <= self.max_header:
                return None
            self._skip_to_marker()
            if self._skipping:
                return _SKIPPED
            self._skipping = True  # one answer per over-long header, however many chunks it spans
            return BadFrame(f"frame header longer than {self.max_header} bytes")
        self._skipping = False
        block = bytes(self._buffer[: end.start()])
        del self._buffer[: end.end()]
        headers: dict[bytes, bytes] = {}
        for line in block.splitlines():
            known = _HEADER_NAMES.search(line, 1)
            if known:
                line = line[known.start() :]  # junk (the rest of a bad frame's body) before the next header
            match = _HEADER_LINE.fullmatch(line)
            if match:
                headers[match.group(1).lower()] = match.group(2)
        if not headers:
            log.warning("skipped %d bytes that are not a frame header", len(block))
            return _SKIPPED
        value = headers.get(b"content-length")
        if value is None:
            return BadFrame("frame without a Content-Length header")
        if not _LENGTH.fullmatch(value):
            return BadFrame(f"invalid Content-Length {value[:40]!r}")
        length = int(value)
        if length > self.max_frame:
            return BadFrame(f"frame of {length} bytes is over the {self.max_frame // (1024 * 1024)} MB limit")
        return length

    def _skip_to_marker(self) -> None:
        """Drop bytes up to the next Content-Length/Content-Type header (or all but a possible partial one)."""
        found = _HEADER_NAMES.search(self._buffer, 1)
        keep_from = found.start() if found else max(0, len(self._buffer) - len(_MARKER) + 1)
        log.warning("skipped %d bytes while looking for a frame header", keep_from)
        del self._buffer[:keep_from]


class StdinPump:
    """Reads stdin in a daemon thread (a blocked read must never keep the process from exiting) and hands
    chunks to the event loop through a small bounded queue (the client is slowed down, memory is not)."""

    def __init__(self, stdin: BinaryIO, loop: asyncio.AbstractEventLoop, chunk_size: int = 1 << 16) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=16)
        self._stdin = stdin
        self._loop = loop
        self._chunk_size = chunk_size
        threading.Thread(target=self._run, name="lsp-stdin", daemon=True).start()

    def _reader(self) -> Callable[[int], bytes]:
        # The file descriptor, not the BufferedReader: a daemon thread blocked inside the buffered object holds
        # its lock, and the interpreter aborts at exit when it cannot take that lock ("Fatal Python error").
        try:
            fd = self._stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return getattr(self._stdin, "read1", self._stdin.read)
        return lambda size: os.read(fd, size)

    def _run(self) -> None:
        read = self._reader()
        while True:
            try:
                chunk = read(self._chunk_size)
            except (OSError, ValueError):
                chunk = b""
            try:
                asyncio.run_coroutine_threadsafe(self.queue.put(chunk), self._loop).result()
            except (RuntimeError, asyncio.CancelledError):
                return  # the loop is gone: the server is exiting
            if not chunk:
                return


async def _stdin_reader(stdin: BinaryIO) -> Callable[[], Awaitable[bytes]]:
    """A pipe or terminal is read by the event loop itself (no thread hand-off per message); a regular file
    (``qwen-lsp < requests``), which cannot be polled, by the pump thread."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)  # past the limit the transport pauses: the client waits
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    except (ValueError, OSError, AttributeError):
        return StdinPump(stdin, loop).queue.get
    return lambda: reader.read(1 << 16)


async def serve_frames(
    stdin: BinaryIO, receive: Callable[[bytes], None], reject: Callable[[str], None], stopped: Callable[[], bool]
) -> None:
    """Feed stdin's frames to ``receive`` (bad ones to ``reject``) until EOF or ``stopped()``."""
    read = await _stdin_reader(stdin)
    decoder = FrameDecoder()
    while not stopped():
        chunk = await read()
        if not chunk:
            log.info("stdin closed")
            return
        for item in decoder.feed(chunk):
            try:
                if isinstance(item, BadFrame):
                    log.warning("bad frame: %s", item.reason)
                    reject(item.reason)
                else:
                    receive(item)
            except Exception:  # noqa: BLE001 - one message must never end the server
                log.exception("could not handle a message")
            if stopped():
                return
            await asyncio.sleep(0)  # let handlers started by this message run before the next one
