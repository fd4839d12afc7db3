"""A fault-injecting OpenAI-compatible server on 127.0.0.1 (``/v1/models``, streamed ``/v1/completions``).

``FaultEndpoint(mode)`` serves in a thread; ``mode`` may be changed between requests:
- ``ok``: answers ``reply`` in one-token chunks, then a finish_reason, the usage report and ``[DONE]``
- ``never``: reads each request (models too) and never answers
- ``hang``: streams two chunks of the completion, then nothing more
- ``http429``: 429 with ``Retry-After: 60``; ``http500``: 500; ``flap``: 500 and ``ok`` in turn
- ``truncated``: streams the chunks and closes the connection: no finish_reason, no usage, no ``[DONE]``
- ``bad_json``: a stream event that is not JSON; ``bad_models``: ``/v1/models`` answers text that is not JSON
- ``trickle``: one chunk every ``trickle_s``, 100 chunks, ignoring max_tokens; ``flood``: the same, at once
Each completion request's body is kept in ``requests`` (to see max_tokens, and that nothing came from a cache).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FaultEndpoint:
    def __init__(self, mode: str = "ok", reply: str = "value = 42", trickle_s: float = 0.5) -> None:
        self.mode = mode
        self.reply = reply
        self.trickle_s = trickle_s
        self.requests: list[dict[str, Any]] = []
        self.models_requests = 0
        self.released = threading.Event()  # ends every hanging handler (at close)
        self._turn = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def completion_mode(self) -> str:
        """The mode of this completion request (``flap`` alternates a failure and a success)."""
        if self.mode != "flap":
            return self.mode
        self._turn += 1
        return "http500" if self._turn % 2 else "ok"

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FaultEndpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _chunk(text: str, finish: str | None = None) -> bytes:
    event = {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 0,
        "model": "fault",
        "choices": [{"index": 0, "text": text, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


_USAGE = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 0,
    "model": "fault",
    "choices": [],
    "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
}


def _handler(endpoint: FaultEndpoint) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the stream ends when the connection closes: cutting it off is possible

        def log_message(self, *args: object) -> None:
            pass

        def _hang(self) -> None:
            endpoint.released.wait(600)

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _start_stream(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()

        def _write(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()

        def do_GET(self) -> None:  # noqa: N802
            endpoint.models_requests += 1
            if endpoint.mode == "never":
                return self._hang()
            if endpoint.mode == "bad_models":
                return self._send(200, b"<html>Welcome to nginx!</html>")
            models = {"object": "list", "data": [{"id": "fault", "object": "model", "created": 0, "owned_by": "t"}]}
            self._send(200, json.dumps(models).encode())

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
            endpoint.requests.append(body)
            mode = endpoint.completion_mode()
            pieces = [endpoint.reply[i : i + 2] for i in range(0, len(endpoint.reply), 2)]
            try:
                if mode == "never":
                    return self._hang()
                if mode == "http429":
                    return self._send(429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "60"})
                if mode == "http500":
                    return self._send(500, b'{"error": {"message": "internal error"}}')
                self._start_stream()
                if mode == "hang":
                    for piece in pieces[:2]:
                        self._write(_chunk(piece))
                    return self._hang()
                if mode == "bad_json":
                    return self._write(b'data: {"id": "cmpl-1", "choices": [{"text": \n\n')
                if mode in ("trickle", "flood"):
                    for _ in range(100):
                        self._write(_chunk("x"))
                        if mode == "trickle" and endpoint.released.wait(endpoint.trickle_s):
                            return
                    return self._write(_chunk("", "stop") + b"data: [DONE]\n\n")
                for piece in pieces:
                    self._write(_chunk(piece))
                if mode == "truncated":
                    return  # the connection closes here
                self._write(_chunk("", "stop") + f"data: {json.dumps(_USAGE)}\n\n".encode() + b"data: [DONE]\n\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on this request

    return Handler
