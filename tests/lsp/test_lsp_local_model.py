"""The installed ``qwen-lsp`` over stdio with the real llama.cpp backend: a tiny random-weight qwen3moe GGUF for
plumbing (loading, status, cancellation) and the real Qwen2.5-Coder-0.5B for completions that must make sense."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from lsp_helpers import (
    cancel_request,
    first_text,
    inline_completion,
    open_document,
    running_server,
    server_env,
    start_inline_completion,
)
from model_files import require_real_qwen_05b
from tiny_gguf import write_tiny_qwen_gguf

QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]
URI = "file:///work/demo/app.py"


def local_env(tmp_path: Path, model: Path, **extra: str) -> dict[str, str]:
    settings = {
        "QWEN_LSP_BACKEND__LOCAL__MODEL": str(model),
        "QWEN_LSP_BACKEND__LOCAL__N_THREADS": "1",
        "QWEN_LSP_BACKEND__LOCAL__N_CTX": "2048",
        "QWEN_LSP_COMPLETION__DEBOUNCE_MS": "0",
    }
    return server_env(tmp_path, **{**settings, **extra})


@pytest.fixture(scope="module")
def tiny_moe(tmp_path_factory) -> Path:
    return write_tiny_qwen_gguf(tmp_path_factory.mktemp("models") / "tiny-qwen3moe.gguf", arch="qwen3moe")


async def test_tiny_moe_model_loads_reports_ready_and_completes(tmp_path, tiny_moe):
    env = local_env(tmp_path, tiny_moe, QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE="8")
    async with running_server(QWEN_LSP, env) as client:
        statuses: list[dict] = []
        client.feature("qwen/status")(lambda params: statuses.append(params))
        await open_document(client, URI, "total = \n")
        result = await inline_completion(client, URI, 0, 8)
        text = first_text(result)
        assert text and "\n" not in text  # a random model still produces printable single-line text
        for _ in range(100):
            if any(_state(s) == "ready" for s in statuses):
                break
            await asyncio.sleep(0.05)
        assert any(_state(s) == "ready" for s in statuses)


def _state(params) -> str:
    return params["state"] if isinstance(params, dict) else getattr(params, "state", "")


async def test_cancel_stops_a_long_generation_so_the_next_request_is_served(tmp_path, tiny_moe):
    # The tiny model never stops by itself and never writes a newline: only max_tokens or cancellation end it.
    env = local_env(tmp_path, tiny_moe, QWEN_LSP_COMPLETION__MAX_TOKENS="4096", QWEN_LSP_BACKEND__LOCAL__N_CTX="8192")
    async with running_server(QWEN_LSP, env) as client:
        statuses: list = []
        client.feature("qwen/status")(lambda params: statuses.append(params))
        for _ in range(200):
            if any(_state(s) == "ready" for s in statuses):
                break
            await asyncio.sleep(0.05)
        await open_document(client, URI, "def main():\n    \n")
        msg_id, pending = start_inline_completion(client, URI, 1, 4)
        await asyncio.sleep(0.3)
        cancel_request(client, msg_id)
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, 20)
        # One Llama object serves one generation at a time: this only finishes if the first one stopped.
        await open_document(client, "file:///work/demo/b.py", "name = \n")
        result = await asyncio.wait_for(inline_completion(client, "file:///work/demo/b.py", 0, 7), 60)
        assert first_text(result)


async def test_missing_model_reports_once_and_recovers_when_the_file_appears(tmp_path, tiny_moe):
    missing = tmp_path / "later.gguf"
    env = local_env(tmp_path, missing)
    async with running_server(QWEN_LSP, env) as client:
        await open_document(client, URI, "x = \n")
        for _ in range(3):
            assert await inline_completion(client, URI, 0, 4) is None
        errors = [m for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and "later.gguf" in errors[0].message
        missing.write_bytes(tiny_moe.read_bytes())
        result = await inline_completion(client, URI, 0, 4)
        assert first_text(result)
        assert client.error is None


@pytest.mark.real_model
async def test_real_qwen_completes_a_function_body(tmp_path):
    model = require_real_qwen_05b()
    env = local_env(tmp_path, model)
    async with running_server(QWEN_LSP, env) as client:
        text = "def is_even(n: int) -> bool:\n    \n\n\nprint(is_even(4))\n"
        await open_document(client, URI, text)
        result = await asyncio.wait_for(inline_completion(client, URI, 1, 4), 240)
        completion = first_text(result)
        assert completion and "return" in completion and "%" in completion
        assert "print(is_even(4))" not in completion  # stopped before repeating the suffix
