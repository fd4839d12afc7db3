"""The thinking budget (and the connection check) on the remote backend, against a scripted OpenAI-compatible HTTP server on 127.0.0.1 that
streams a model thinking without end, either in ``reasoning_content`` deltas (vLLM/SGLang with a reasoning
parser, DashScope) or as ``<think>`` text in the content. The remote chat path itself is tested against a real
llama.cpp server in test_backend_remote."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from qwen_lsp.clients.base import GenerationParams
from qwen_lsp.clients.remote.backend import OpenAICompatBackend
from qwen_lsp.clients.settings import RemoteSettings
from qwen_lsp.clients.thinking import CLOSE_THINKING

ANSWER = "def f():\n    return 1\n"


class _ThinkingServer(BaseHTTPRequestHandler):
    style = "reasoning"  # "reasoning": a separate channel; "inline": <think> in the content; "none": no thinking
    requests: ClassVar[list[dict]] = []

    def log_message(self, *_args: object) -> None:
        pass

    def _json(self, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append({"GET": self.path})
        self._json({"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "t"}]})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        if not body.get("stream"):
            message = {"role": "assistant", "content": ANSWER}
            self._json(
                {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                }
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for i in range(body["max_tokens"]):
                delta = {
                    "reasoning": {"reasoning_content": f"step {i}. "},
                    "inline": {"content": "<think>" if i == 0 else f"step {i}. "},
                    "none": {"content": ANSWER if i == 0 else ""},
                    "empty": {"role": "assistant"},
                }[self.style]
                chunk = {
                    "id": "c",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                if self.style in ("none", "empty"):
                    break
            if self.style == "empty":  # a server that gave up after the first event
                self.wfile.write(b"data: [DONE]\n\n")
                return
            end = {
                "id": "c",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            }
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading at the budget
            pass


@pytest.fixture
def server() -> Iterator[type[_ThinkingServer]]:
    handler = type("Handler", (_ThinkingServer,), {"requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    handler.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"  # type: ignore[attr-defined]
    yield handler
    httpd.shutdown()


async def chat(server: type[_ThinkingServer], params: GenerationParams) -> str:
    backend = OpenAICompatBackend(RemoteSettings(base_url=server.base_url, model="m", max_retries=0))  # type: ignore[attr-defined]
    try:
        return (await backend.chat([{"role": "user", "content": "write f"}], params)).content
    finally:
        await backend.aclose()


@pytest.mark.parametrize("style", ["reasoning", "inline"])
async def test_thinking_past_the_budget_is_closed_and_the_server_continues_the_turn(
    server: type[_ThinkingServer], style: str
) -> None:
    server.style = style
    content = await chat(server, GenerationParams(max_tokens=64, thinking_budget=5))
    _models, first, second = server.requests
    assert first["stream"] and first["max_tokens"] == 64 + 5
    assert second["max_tokens"] == 64 and not second.get("stream")
    assert second["continue_final_message"] is True and second["add_generation_prompt"] is False
    prefill = second["messages"][-1]
    assert prefill["role"] == "assistant" and prefill["content"].startswith("<think>")
    assert prefill["content"].endswith(CLOSE_THINKING) and "step 3." in prefill["content"]
    assert "step 9." not in prefill["content"]  # stopped at the budget, not at max_tokens
    assert content == prefill["content"] + ANSWER


async def test_a_reply_without_thinking_is_one_request(server: type[_ThinkingServer]) -> None:
    server.style = "none"
    content = await chat(server, GenerationParams(max_tokens=64, thinking_budget=5))
    assert content == ANSWER and len(server.requests) == 2  # /models, then one chat


async def test_without_a_budget_the_chat_is_not_streamed(server: type[_ThinkingServer]) -> None:
    server.style = "none"
    assert await chat(server, GenerationParams(max_tokens=64)) == ANSWER
    assert not server.requests[1].get("stream")


async def test_callers_arriving_together_share_one_connection_check(server: type[_ThinkingServer]) -> None:
    """A code action and the start-up load asking at once make one /models request (llama_cpp.server would cut a
    streaming reply short for a second one)."""
    import asyncio

    backend = OpenAICompatBackend(RemoteSettings(base_url=server.base_url, model="m", max_retries=0))  # type: ignore[attr-defined]
    try:
        await asyncio.gather(*(backend.ensure_ready() for _ in range(3)))
        assert server.requests == [{"GET": "/v1/models"}]
    finally:
        await backend.aclose()


async def test_a_stream_that_ends_without_a_reply_is_a_clear_error(server: type[_ThinkingServer]) -> None:
    from qwen_lsp.clients.base import BackendError

    server.style = "empty"
    with pytest.raises(BackendError, match="ended its stream without a reply"):
        await chat(server, GenerationParams(max_tokens=64, thinking_budget=5))
