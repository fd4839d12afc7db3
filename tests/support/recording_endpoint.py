"""A recording OpenAI-compatible server on 127.0.0.1: every request body is kept; completions answer with a fixed
text (streamed when asked), chat answers come from a queue (tool calls or text), then a plain "done".

    with RecordingEndpoint() as endpoint:
        endpoint.chat_replies += [{"tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}]}]
        ... base_url = endpoint.base_url ...
        endpoint.bodies  # raw bytes of every POST
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RecordingEndpoint:
    def __init__(self, completion_text: str = "value\n") -> None:
        self.completion_text = completion_text
        self.chat_replies: list[dict[str, Any]] = []
        self.requests: list[tuple[str, bytes]] = []  # (path, body)
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def bodies(self) -> list[bytes]:
        with self.lock:
            return [body for _, body in self.requests]

    def count(self, path_end: str) -> int:
        with self.lock:
            return sum(1 for path, _ in self.requests if path.endswith(path_end))

    def __enter__(self) -> RecordingEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_chat_reply(self) -> dict[str, Any]:
        with self.lock:
            return self.chat_replies.pop(0) if self.chat_replies else {"content": "done"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                models = {"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "t"}]}
                self._send(json.dumps(models).encode())

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint.lock:
                    endpoint.requests.append((self.path, body))
                request = json.loads(body or b"{}")
                if self.path.endswith("/chat/completions"):
                    self._chat(request)
                else:
                    self._completion(request)

            def _completion(self, request: dict) -> None:
                choice = {"index": 0, "text": endpoint.completion_text, "finish_reason": "stop"}
                event = {"id": "c", "object": "text_completion", "created": 0, "model": "m", "choices": [choice]}
                if request.get("stream"):
                    self._send(f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode(), "text/event-stream")
                else:
                    self._send(json.dumps(event).encode())

            def _chat(self, request: dict) -> None:
                reply = endpoint._next_chat_reply()
                calls = [
                    {
                        "id": f"call_{i}",
                        "type": "function",
                        "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}))},
                    }
                    for i, c in enumerate(reply.get("tool_calls", []))
                ]
                message = {
                    "role": "assistant",
                    "content": reply.get("content", ""),
                    **({"tool_calls": calls} if calls else {}),
                }
                finish = "tool_calls" if calls else "stop"
                if request.get("stream"):
                    delta = {"index": 0, "delta": message, "finish_reason": finish}
                    event = {
                        "id": "c",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": "m",
                        "choices": [delta],
                    }
                    for i, call in enumerate(calls):
                        call["index"] = i
                    self._send(f"data: {json.dumps(event)}\n\ndata: [DONE]\n\n".encode(), "text/event-stream")
                    return
                response = {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                }
                self._send(json.dumps(response).encode())

            def log_message(self, *args: object) -> None:
                pass

        return Handler
