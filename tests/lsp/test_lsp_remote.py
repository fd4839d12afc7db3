"""The installed ``qwen-lsp`` over stdio with the remote backend against a real OpenAI-compatible server
(``llama_cpp.server`` on 127.0.0.1): completions, an unreachable endpoint reported once, recovery when it comes up."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from lsprotocol import types

from llama_server import API_KEY, KEY_ENV, start_llama_server
from lsp_helpers import first_text, inline_completion, open_document, running_server, server_env
from ports import free_port
from tiny_gguf import write_tiny_qwen_gguf

pytest.importorskip("llama_cpp.server")

QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]
URI = "file:///work/demo/app.py"


def remote_env(tmp_path: Path, base_url: str) -> dict[str, str]:
    return server_env(
        tmp_path,
        QWEN_LSP_BACKEND__KIND="remote",
        QWEN_LSP_BACKEND__REMOTE__BASE_URL=base_url,
        QWEN_LSP_BACKEND__REMOTE__API_KEY_ENV=KEY_ENV,
        QWEN_LSP_BACKEND__REMOTE__MAX_RETRIES="0",
        QWEN_LSP_BACKEND__REMOTE__CONNECT_TIMEOUT_S="2",
        QWEN_LSP_COMPLETION__DEBOUNCE_MS="0",
        QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE="8",
        **{KEY_ENV: API_KEY},
    )


@pytest.mark.slow
async def test_unreachable_endpoint_is_reported_once_then_recovers(tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    async with running_server(QWEN_LSP, remote_env(tmp_path, base_url)) as client:
        await open_document(client, URI, "total = \n")
        for _ in range(3):
            assert await inline_completion(client, URI, 0, 8) is None
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert len(errors) == 1 and f"127.0.0.1:{port}" in errors[0]
        assert all(API_KEY not in m.message for m in client.log_messages)

        model = write_tiny_qwen_gguf(tmp_path / "tiny.gguf")
        for _server in start_llama_server(model, tmp_path / "server.log", port=port):
            result = await inline_completion(client, URI, 0, 8)
            assert first_text(result)  # the tiny model always writes printable text
            assert client.error is None
