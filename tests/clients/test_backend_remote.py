"""The OpenAI-compatible backend against a real `python -m llama_cpp.server` on 127.0.0.1 (tiny GGUF for the
plumbing, the real Qwen2.5-Coder-0.5B for sensible output and cancellation), plus a scripted HTTP server for
the SDK's retries."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from llama_server import API_KEY, KEY_ENV, Server, start_llama_server
from model_files import fim_prompt, repack_survives, require_real_qwen_05b
from ports import free_port
from qwen_lsp.clients.base import BackendError, GenerationParams, Prompt
from qwen_lsp.clients.remote.backend import DEFAULT_CHARS_PER_TOKEN, OpenAICompatBackend
from qwen_lsp.clients.settings import RemoteSettings
from tiny_gguf import write_tiny_qwen_gguf

pytest.importorskip("llama_cpp.server")


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("tiny-server")
    model = write_tiny_qwen_gguf(directory / "tiny-qwen3moe.gguf")
    yield from start_llama_server(model, directory / "server.log")


@pytest.fixture(scope="module")
def real_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    model = require_real_qwen_05b()
    yield from start_llama_server(model, tmp_path_factory.mktemp("real-server") / "server.log", repack_survives(model))


@pytest.fixture
def with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)


def remote(server: Server, **overrides: object) -> OpenAICompatBackend:
    return OpenAICompatBackend(RemoteSettings(base_url=server.base_url, api_key_env=KEY_ENV, **overrides))


async def fim_chunks(backend: OpenAICompatBackend, prompt: Prompt, max_tokens: int = 128) -> list[str]:
    return [c async for c in backend.stream_fim(prompt, GenerationParams(max_tokens=max_tokens), threading.Event())]


async def test_streams_fim_with_the_key_as_bearer_and_never_logs_it(
    tiny_server: Server, with_key: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    backend = remote(tiny_server)
    try:
        chunks = await fim_chunks(backend, fim_prompt("def f():\n"), max_tokens=12)
        assert len(chunks) >= 2 and "".join(chunks)
        assert backend.status().state == "ready"
        assert backend.status().model  # the first model the server lists
        assert API_KEY not in caplog.text and API_KEY not in repr(backend) and API_KEY not in str(backend.status())
        assert caplog.records  # the SDK did log (at debug), just not the key
    finally:
        await backend.aclose()


async def test_missing_or_wrong_key_gives_an_error_naming_the_variable(
    tiny_server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(BackendError, match=KEY_ENV) as missing:
        await remote(tiny_server).ensure_ready()
    assert tiny_server.base_url in str(missing.value) and "401" in str(missing.value)
    wrong = "sk-wrong-0123456789abcdef"
    monkeypatch.setenv(KEY_ENV, wrong)
    backend = remote(tiny_server)
    with pytest.raises(BackendError, match=KEY_ENV) as rejected:
        await backend.ensure_ready()
    assert wrong not in str(rejected.value) and wrong not in caplog.text
    assert backend.status().state == "error"
    await backend.aclose()


async def test_unreachable_endpoint_names_the_url(with_key: None) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    backend = OpenAICompatBackend(RemoteSettings(base_url=base_url, api_key_env=KEY_ENV, max_retries=0))
    with pytest.raises(BackendError, match="cannot connect") as error:
        await backend.ensure_ready()
    assert base_url in str(error.value)
    with pytest.raises(BackendError, match="cannot connect"):
        await fim_chunks(backend, fim_prompt("x"), max_tokens=2)
    await backend.aclose()


async def test_chat_through_the_server(tiny_server: Server, with_key: None) -> None:
    backend = remote(tiny_server)
    try:
        reply = await backend.chat([{"role": "user", "content": "hello"}], GenerationParams(max_tokens=8))
        assert reply.content and reply.tool_calls == []
        cancel = threading.Event()
        cancel.set()
        reply = await backend.chat([{"role": "user", "content": "x"}], GenerationParams(max_tokens=8), cancel=cancel)
        assert reply.finish_reason == "cancelled"
    finally:
        await backend.aclose()


async def test_streamed_chat_within_a_thinking_budget_through_the_server(tiny_server: Server, with_key: None) -> None:
    backend = remote(tiny_server)
    try:
        reply = await backend.chat(
            [{"role": "user", "content": "hello"}], GenerationParams(max_tokens=8, thinking_budget=16)
        )
        assert reply.content and reply.finish_reason in ("length", "stop")
        assert len(reply.content) < 200  # the random model never thinks: the answer is cut at max_tokens
    finally:
        await backend.aclose()


@pytest.mark.real_model
async def test_real_model_completes_a_function_body(real_server: Server, with_key: None) -> None:
    backend = remote(real_server, fim_template="qwen")
    try:
        prompt = fim_prompt("def fibonacci(n):\n    ", "\n\nprint(fibonacci(10))\n")
        text = "".join(await fim_chunks(backend, prompt, max_tokens=64))
        assert "return" in text and "<|" not in text
    finally:
        await backend.aclose()


@pytest.mark.real_model
async def test_cancel_closes_the_stream_and_the_server_stops(real_server: Server, with_key: None) -> None:
    backend = remote(real_server)
    cancel = threading.Event()
    received = 0
    try:
        prompt = fim_prompt("# A long list of numbered lines\n" + "".join(f"line_{i} = {i}\n" for i in range(8)))
        async for _ in backend.stream_fim(prompt, GenerationParams(max_tokens=400), cancel):
            received += 1
            if received == 2:
                cancel.set()
        assert received == 2
        deadline = time.monotonic() + 60
        while "Disconnected from client" not in real_server.log_text():
            assert time.monotonic() < deadline, "the server never saw the client go away"
            await asyncio.sleep(0.2)
    finally:
        await backend.aclose()


class _Scripted(BaseHTTPRequestHandler):
    """A scripted OpenAI-style server: /v1/models answers 503 for the first ``failures`` requests; streamed
    /v1/completions sends ``chunks`` as they are (ignoring stop strings) and then a usage report."""

    failures = 0
    gate: threading.Event | None = None  # completions wait for it (a slow prompt evaluation)
    chunks: ClassVar[list[str]] = []
    usage: ClassVar[dict[str, int]] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    seen: ClassVar[list[str | None]] = []  # the Authorization header of each request

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self.seen.append(self.headers.get("Authorization"))
        if len(self.seen) <= self.failures:
            self._send(503, b'{"error": {"message": "busy"}}')
        else:
            models = {"object": "list", "data": [{"id": "m", "object": "model", "created": 0, "owned_by": "t"}]}
            self._send(200, json.dumps(models).encode())

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.gate is not None:
            self.gate.wait(60)
        events = [
            {
                "id": "c",
                "object": "text_completion",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "text": text, "finish_reason": None}],
            }
            for text in self.chunks
        ]
        events.append(
            {"id": "c", "object": "text_completion", "created": 0, "model": "m", "choices": [], "usage": self.usage}
        )
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send(200, body.encode(), "text/event-stream")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def scripted() -> Iterator[str]:
    _Scripted.failures, _Scripted.chunks, _Scripted.seen, _Scripted.gate = 0, [], [], None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("max_retries", [2, 0])
async def test_server_errors_are_retried_up_to_max_retries(scripted: str, max_retries: int) -> None:
    _Scripted.failures = 2
    backend = OpenAICompatBackend(
        RemoteSettings(base_url=scripted, api_key_env="QWEN_LSP_UNSET_KEY_VAR", max_retries=max_retries)
    )
    try:
        if max_retries == 2:
            await backend.ensure_ready()
            assert backend.status().state == "ready" and len(_Scripted.seen) == 3
            assert _Scripted.seen == [None] * 3  # no key configured: no Authorization header at all
        else:
            with pytest.raises(BackendError, match="503"):
                await backend.ensure_ready()
            assert len(_Scripted.seen) == 1
    finally:
        await backend.aclose()


async def test_stop_strings_apply_even_if_the_server_ignores_them_and_usage_calibrates(scripted: str) -> None:
    _Scripted.chunks = ["return a", " + b\n<|fi", "m_pad|>garbage", "more"]
    prefix = "x = 1\n" * 100
    _Scripted.usage = {"prompt_tokens": 300, "completion_tokens": 4, "total_tokens": 304}
    backend = OpenAICompatBackend(RemoteSettings(base_url=scripted, api_key_env="QWEN_LSP_UNSET_KEY_VAR"))
    try:
        assert backend.count_tokens(prefix) == int(len(prefix) / DEFAULT_CHARS_PER_TOKEN) + 1
        chunks = await fim_chunks(backend, fim_prompt(prefix), max_tokens=8)
        assert "".join(chunks) == "return a + b\n"
        assert chunks[0] == "return a"  # text is passed on as it comes, only a possible stop start is held
        _Scripted.chunks = ["ok"] * 3
        assert "".join(await fim_chunks(backend, fim_prompt(prefix))) == "okokok"
        assert backend.chars_per_token < DEFAULT_CHARS_PER_TOKEN  # 2.1 characters per token were reported
    finally:
        await backend.aclose()


async def test_cancel_while_the_server_is_still_reading_the_prompt(scripted: str) -> None:
    _Scripted.gate = threading.Event()
    backend = OpenAICompatBackend(RemoteSettings(base_url=scripted, api_key_env="QWEN_LSP_UNSET_KEY_VAR"))
    cancel = threading.Event()
    asyncio.get_running_loop().call_later(0.2, cancel.set)
    try:
        stream = backend.stream_fim(fim_prompt("x"), GenerationParams(), cancel)
        # Without noticing the cancel, this would wait for the gate, which only opens afterwards.
        assert await asyncio.wait_for(_collect(stream), timeout=30) == []
        chat = backend.chat([{"role": "user", "content": "x"}], GenerationParams(), cancel=cancel)
        reply = await asyncio.wait_for(chat, timeout=30)
        assert reply.finish_reason == "cancelled"
    finally:
        _Scripted.gate.set()
        await backend.aclose()


async def _collect(stream: AsyncIterator[str]) -> list[str]:
    return [c async for c in stream]


async def test_a_request_cancels_background_completions(tiny_server: Server, with_key: None) -> None:
    """A server may answer one request at a time: a speculative completion must not hold up a request."""
    backend = remote(tiny_server)
    try:
        cancel = threading.Event()
        background = backend.stream_fim(
            fim_prompt("def f():\n"), GenerationParams(max_tokens=4000, background=True), cancel
        )
        assert await anext(background)
        assert "".join(await fim_chunks(backend, fim_prompt("x = "), max_tokens=4))
        assert cancel.is_set()
        rest = [chunk async for chunk in background]
        assert len(rest) < 3000  # it stopped: the tiny model never stops by itself
    finally:
        await backend.aclose()
