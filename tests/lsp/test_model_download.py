"""A missing local model preset is offered for download from the editor: the real server over stdio, the real
``huggingface_hub`` client against a stand-in hub on 127.0.0.1 (``HF_ENDPOINT``) serving a tiny GGUF, a temporary
models directory, and llama.cpp loading what was downloaded.

The preset is ``qwen3-coder-30b-a3b``: the one without a pinned sha256, so the tiny file verifies against the hash
the stand-in hub reports (as the real hub does for it)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp_helpers import capabilities, first_text, inline_completion, open_document, running_server, server_env, wait_for

pytest.importorskip("llama_cpp", reason="loading the downloaded model needs the local extra (llama-cpp-python)")
from qwen_lsp.clients.models.files import get_preset
from tiny_gguf import write_tiny_qwen_gguf

PRESET = get_preset("qwen3-coder-30b-a3b")
QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]
URI = "file:///work/demo/app.py"


def download_env(tmp_path: Path, endpoint: str) -> dict[str, str]:
    return server_env(
        tmp_path,
        QWEN_LSP_MODELS_DIR=str(tmp_path / "models"),
        HF_ENDPOINT=endpoint,
        HF_HOME=str(tmp_path / "hf-home"),
        QWEN_LSP_BACKEND__LOCAL__MODEL=PRESET.name,
        QWEN_LSP_BACKEND__LOCAL__N_THREADS="1",
        QWEN_LSP_BACKEND__LOCAL__N_CTX="1024",
        QWEN_LSP_COMPLETION__DEBOUNCE_MS="0",
        QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE="4",
        QWEN_LSP_CONTEXT__ENABLED="false",
    )


class Prompts:
    """Answers ``window/showMessageRequest`` with ``answer`` and records the prompts."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.seen: list[types.ShowMessageRequestParams] = []

    def install(self, client: LanguageClient) -> None:
        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def show_message_request(client: LanguageClient, params: types.ShowMessageRequestParams):
            self.seen.append(params)
            return types.MessageActionItem(title=self.answer)


def download_progress(client: LanguageClient) -> list:
    return [
        v
        for token, values in client.progress_reports.items()
        if str(token).startswith("qwen-lsp-download")
        for v in values
    ]


def kinds(values: list) -> list[str]:
    return [v.kind for v in values]


async def completes(client: LanguageClient) -> str:
    async def attempt() -> str | None:
        return first_text(await inline_completion(client, URI, 0, 8))

    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        text = await attempt()
        if text:
            return text
        await asyncio.sleep(0.5)
    raise AssertionError(f"no completion; messages: {[m.message for m in client.messages]}")


@pytest.mark.timeout(300)
async def test_accepting_the_prompt_downloads_with_progress_then_completes(tmp_path: Path, fake_hub) -> None:
    model = write_tiny_qwen_gguf(tmp_path / "tiny.gguf").read_bytes()
    hub = fake_hub({PRESET.local_filename: model})
    prompts = Prompts("Download")
    env = download_env(tmp_path, hub.endpoint)
    async with running_server(QWEN_LSP, env, configure=prompts.install) as client:
        await open_document(client, URI, "total = \n")
        assert await completes(client)
        [prompt] = prompts.seen
        assert prompt.message.startswith(f"qwen-lsp: Download {PRESET.name} (~18.6 GB)?")
        assert [a.title for a in prompt.actions] == ["Download", "Not now"]
        progress = download_progress(client)
        assert kinds(progress)[0] == "begin" and kinds(progress)[-1] == "end"
        assert progress[0].cancellable and any(getattr(v, "percentage", None) == 100 for v in progress)
        assert (tmp_path / "models" / PRESET.local_filename).read_bytes() == model
        # settings change: a new backend is loaded, the file is there, no second prompt
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"qwenLsp": {"backend": {"local": {"nCtx": 512}}}})
        )
        assert await completes(client)
        assert len(prompts.seen) == 1 and hub.gets == 1
        assert not [m for m in client.messages if m.type == types.MessageType.Error]


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_not_now_is_remembered_and_says_what_to_run(tmp_path: Path, fake_hub) -> None:
    hub = fake_hub({PRESET.local_filename: write_tiny_qwen_gguf(tmp_path / "tiny.gguf").read_bytes()})
    prompts = Prompts("Not now")
    async with running_server(QWEN_LSP, download_env(tmp_path, hub.endpoint), configure=prompts.install) as client:
        await open_document(client, URI, "total = \n")
        await wait_for(lambda: prompts.seen and client.messages)
        for n_ctx in (512, 768):  # two more loads of a new backend for the same missing preset
            client.workspace_did_change_configuration(
                types.DidChangeConfigurationParams(settings={"qwenLsp": {"backend": {"local": {"nCtx": n_ctx}}}})
            )
            assert await inline_completion(client, URI, 0, 8) is None
        await asyncio.sleep(1)
        assert len(prompts.seen) == 1 and hub.gets == 0 and download_progress(client) == []
        assert any(f"qwen-lsp model pull {PRESET.name}" in m.message for m in client.messages)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_cancelling_the_progress_stops_the_download_and_keeps_nothing(tmp_path: Path, fake_hub) -> None:
    # 40 MB at 40 MB/s: huggingface_hub reports every 10 MB, so the cancel lands well before the end
    hub = fake_hub({PRESET.local_filename: b"GGUF" + bytes(40 << 20)}, bytes_per_s=40 << 20)
    prompts = Prompts("Download")
    async with running_server(QWEN_LSP, download_env(tmp_path, hub.endpoint), configure=prompts.install) as client:
        [token] = await wait_for(
            lambda: [
                t
                for t, values in client.progress_reports.items()
                if str(t).startswith("qwen-lsp-download") and "report" in kinds(values)
            ]
        )
        client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token))
        await wait_for(lambda: "end" in kinds(download_progress(client)), timeout=60)
        await wait_for(lambda: any("cancelled" in m.message for m in client.messages))
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"qwenLsp": {"backend": {"local": {"nCtx": 512}}}})
        )
        await asyncio.sleep(1)
        assert len(prompts.seen) == 1
        assert sorted(p.name for p in (tmp_path / "models").iterdir()) == []
        percentages = [v.percentage for v in download_progress(client) if v.kind == "report"]
        assert percentages and max(percentages) < 100


@pytest.mark.timeout(120)
async def test_a_client_without_message_requests_gets_the_cli_command(tmp_path: Path, fake_hub) -> None:
    hub = fake_hub({PRESET.local_filename: b"GGUF"})
    caps = capabilities()
    caps.window = types.WindowClientCapabilities(work_done_progress=True, show_message=None)
    prompts = Prompts("Download")
    env = download_env(tmp_path, hub.endpoint)
    async with running_server(QWEN_LSP, env, capabilities=caps, configure=prompts.install) as client:
        await wait_for(lambda: client.messages)
        assert f"Run: qwen-lsp model pull {PRESET.name}" in client.messages[0].message
        assert prompts.seen == [] and hub.gets == 0
