"""The agent and a code action with the real Qwen2.5-Coder-0.5B-Instruct behind a real OpenAI-compatible server
(``python -m llama_cpp.server`` on 127.0.0.1, started here): a real tool call is parsed and executed, and a
real model answer becomes an edit that still parses."""

from __future__ import annotations

import ast
import json
import sys
import threading
from pathlib import Path

import pytest
from lsprotocol import types

from llama_server import API_KEY, KEY_ENV, Server, start_llama_server
from lsp_helpers import open_document, running_server, server_env
from model_files import repack_survives, require_real_qwen_05b
from qwen_lsp.clients.local.backend import LocalLlamaBackend
from qwen_lsp.clients.remote.backend import OpenAICompatBackend
from qwen_lsp.clients.settings import LocalSettings, RemoteSettings
from qwen_lsp.context.privacy import DEFAULT_SECRET_FILES
from qwen_lsp.server.actions.settings import SamplingSettings
from qwen_lsp.server.agent.loop import AgentLoop, AgentOutcome
from qwen_lsp.server.agent.paths import WorkspacePaths
from qwen_lsp.server.agent.prompts import system_message
from qwen_lsp.server.agent.settings import AgentSettings
from qwen_lsp.server.agent.staging import StagedFiles, read_from_disk
from qwen_lsp.server.agent.tools import Toolbox
from workspace_edits import apply_workspace_edit, structure_code_actions_like_editors

pytestmark = pytest.mark.real_model
QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]
GREEDY = SamplingSettings(temperature=0.0, top_p=1.0, top_k=0, repetition_penalty=1.0)


@pytest.fixture(scope="module")
def real_server(tmp_path_factory) -> Server:
    model = require_real_qwen_05b()
    yield from start_llama_server(model, tmp_path_factory.mktemp("real-server") / "server.log", repack_survives(model))


@pytest.fixture
def with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, API_KEY)


async def read_notes(backend, workspace: Path, max_steps: int) -> tuple[AgentOutcome, list[dict]]:
    """Ask the real model to read a file with the read_file tool; the outcome and the conversation."""
    (workspace / "notes.txt").write_text("The release codename is pineapple.\n")
    settings = AgentSettings(sampling=GREEDY, max_steps=max_steps, max_tokens_per_step=96)
    toolbox = Toolbox(WorkspacePaths([workspace], DEFAULT_SECRET_FILES), StagedFiles(read_from_disk), settings, None)
    messages = [
        {"role": "system", "content": system_message(settings.allowed_commands)},
        {"role": "user", "content": "Task: read the file notes.txt with the read_file tool."},
    ]
    try:
        outcome = await AgentLoop(backend, toolbox, settings, threading.Event(), context_tokens=2048).run(messages)
    finally:
        await backend.aclose()
    return outcome, messages


async def test_real_tool_call_is_parsed_and_executed(real_server: Server, with_key: None, tmp_path: Path) -> None:
    remote = RemoteSettings(base_url=real_server.base_url, api_key_env=KEY_ENV, read_timeout_s=600)
    outcome, messages = await read_notes(OpenAICompatBackend(remote), tmp_path, max_steps=2)
    assert outcome.stop_reason != "error", outcome.summary + "\n" + real_server.log_text()[-2000:]
    first = outcome.steps[0]
    assert first.tool == "read_file" and first.ok, first
    assert "pineapple" in next(m for m in messages if m["role"] == "tool")["content"]
    assert outcome.model_calls == 2  # the server accepted the conversation with the tool call and its result


async def test_local_in_process_backend_makes_a_real_tool_call(tmp_path: Path) -> None:
    model = require_real_qwen_05b()
    local = LocalSettings(model=str(model), n_threads=1, n_ctx=2048, repack=repack_survives(model))
    outcome, messages = await read_notes(LocalLlamaBackend(local), tmp_path, max_steps=1)
    assert outcome.steps and outcome.steps[0].tool == "read_file" and outcome.steps[0].ok, outcome
    assert "pineapple" in next(m for m in messages if m["role"] == "tool")["content"]


async def test_real_refactor_action_gives_an_edit_that_parses(real_server: Server, tmp_path: Path) -> None:
    source = (
        "def average(values):\n    total = 0\n    count = 0\n    for v in values:\n        total = total + v\n"
        "        count = count + 1\n    return total / count\n"
    )
    root = tmp_path / "proj"
    root.mkdir()
    (root / "stats.py").write_text(source)
    uri = (root / "stats.py").as_uri()
    options = {
        "backend": {
            "kind": "remote",
            "remote": {"base_url": real_server.base_url, "api_key_env": KEY_ENV, "read_timeout_s": 600},
        },
        "actions": {"sampling": json.loads(GREEDY.model_dump_json()), "max_tokens": 200},
        "context": {"enabled": False},
    }
    env = server_env(tmp_path, **{KEY_ENV: API_KEY})
    async with running_server(QWEN_LSP, env, initialization_options=options, root=root) as client:
        await open_document(client, uri, source)
        structure_code_actions_like_editors(client)
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=types.Position(line=2, character=4), end=types.Position(line=2, character=4)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        refactor = next(a for a in actions if a.title == "Refactor with Qwen…")
        resolved = await client.code_action_resolve_async(refactor)
        assert resolved.edit is not None, [m.message for m in client.messages]
        new_text = apply_workspace_edit(resolved.edit, {uri: source})[uri]
    tree = ast.parse(new_text)  # the parsed answer is code, not prose or fences
    assert "```" not in new_text
    assert [n.name for n in tree.body if isinstance(n, ast.FunctionDef)] == ["average"]
    namespace: dict = {}
    exec(compile(tree, "stats.py", "exec"), namespace)  # the model's refactor must still work
    assert namespace["average"]([1, 2, 3, 6]) == 3
