"""The seeded-secrets scenario, driven through the real ``qwen-lsp`` over stdio with its remote backend pointed
at a ``RecordingEndpoint``: the editor opens and edits every kept-out file and asks for completions and code
actions inside them, completes in ``app.py`` and ``config.py``, runs a code action on ``config.py`` and an agent
run whose scripted model asks for every secret file. Shared by ``test_privacy_lsp.py`` and
``bench/bench_privacy.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from lsp_helpers import first_text, inline_completion, insert_text, open_document, running_server, server_env
from recording_endpoint import RecordingEndpoint
from seeded_secrets import APP_CURSORS, DOTENV_EDIT, KEPT_OUT, SETTINGS_EDIT, language_of, leaks, seeded_values

QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")
AGENT_CALLS = [
    *({"name": "read_file", "arguments": {"path": p}} for p in KEPT_OUT),
    {"name": "read_file", "arguments": {"path": "config.py"}},
    {"name": "search", "arguments": {"query": "plain marker"}},
    {"name": "search", "arguments": {"query": "AKIA"}},
    {"name": "list_files", "arguments": {"path": "."}},
    {"name": "finish", "arguments": {"summary": "looked around"}},
]


@dataclass
class ScenarioResult:
    bodies: list[str]  # every request body the endpoint received
    logs: list[str]  # the server's log file, its stderr, and what it told the editor
    completions_in_kept_out: dict[str, str | None] = field(default_factory=dict)
    actions_in_kept_out: dict[str, int] = field(default_factory=dict)
    requests_from_kept_out: int = 0  # completion requests made while completing inside kept-out files
    completion_requests: int = 0
    chat_requests: int = 0
    agent_result: dict | None = None

    def leaks(self) -> dict[str, int]:
        return leaks(self.bodies + self.logs, seeded_values())


def remote_env(tmp_path: Path, base_url: str, **extra: str) -> dict[str, str]:
    return server_env(
        tmp_path,
        QWEN_LSP_BACKEND__KIND="remote",
        QWEN_LSP_BACKEND__REMOTE__BASE_URL=base_url,
        QWEN_LSP_BACKEND__REMOTE__MODEL="m",
        QWEN_LSP_BACKEND__REMOTE__MAX_RETRIES="0",
        QWEN_LSP_BACKEND__REMOTE__CONNECT_TIMEOUT_S="2",
        QWEN_LSP_COMPLETION__DEBOUNCE_MS="0",
        QWEN_LSP_COMPLETION__CACHE_SIZE="0",
        QWEN_LSP_CONTEXT__GATHER_TIMEOUT_MS="500",
        QWEN_LSP_CONTEXT__PERSIST="false",
        **extra,
    )


def logged_command(log_file: Path, stderr_file: Path) -> list[str]:
    """``qwen-lsp serve`` at debug level with its log in a file and its stderr captured."""
    return [
        "/bin/sh",
        "-c",
        'exec "$0" serve --log-level debug --log-file "$1" 2>"$2"',
        QWEN_LSP,
        str(log_file),
        str(stderr_file),
    ]


def _body_text(body: bytes) -> str:
    """The body as sent and, decoded, as the model reads it (JSON escapes undone)."""
    raw = body.decode("utf-8", "replace")
    try:
        return raw + "\n" + json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return raw


async def _actions(client, uri: str, line: int) -> list[types.CodeAction]:
    position = types.Position(line=line, character=0)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=position, end=position),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return list(result or [])


async def _completions_until(client, endpoint: RecordingEndpoint, uri: str, needle: str, timeout: float = 60) -> None:
    """Complete in app.py until a request carries ``needle`` (the index is ready and definitions arrive)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not any(needle in b.decode("utf-8", "replace") for b in endpoint.bodies):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"no completion request carried {needle!r}")
        await inline_completion(client, uri, *APP_CURSORS[0])
        await asyncio.sleep(0.2)


async def run_scenario(tmp_path: Path, repo: Path, endpoint: RecordingEndpoint) -> ScenarioResult:
    log_file, stderr_file = tmp_path / "server.log", tmp_path / "server.stderr"
    env = remote_env(tmp_path, endpoint.base_url, QWEN_LSP_API_KEY="test-key")
    result = ScenarioResult([], [])
    async with running_server(logged_command(log_file, stderr_file), env, root=repo) as client:
        # The editor opens every kept-out file (symlinks as the editor reads them: their targets' text).
        for version, relative in enumerate(KEPT_OUT, start=1):
            uri = (repo / relative).as_uri()
            await open_document(client, uri, (repo / relative).read_text(), language_of(relative), version)
        insert_text(client, (repo / ".env").as_uri(), 10, 2, 0, DOTENV_EDIT)
        insert_text(client, (repo / "local_settings.py").as_uri(), 10, 2, 0, SETTINGS_EDIT)
        app = (repo / "app.py").as_uri()
        await open_document(client, app, (repo / "app.py").read_text())
        await _completions_until(client, endpoint, app, "def load_config")
        for line, character in APP_CURSORS:
            assert first_text(await inline_completion(client, app, line, character)) is not None
        config = (repo / "config.py").as_uri()
        await open_document(client, config, (repo / "config.py").read_text())
        await inline_completion(client, config, 3, 0)  # an ordinary file: sent, its credentials redacted

        before = endpoint.count("/v1/completions")
        for relative in KEPT_OUT:
            uri = (repo / relative).as_uri()
            result.completions_in_kept_out[relative] = first_text(await inline_completion(client, uri, 1, 0))
            result.actions_in_kept_out[relative] = len(await _actions(client, uri, 1))
        result.requests_from_kept_out = endpoint.count("/v1/completions") - before

        refactor = next(a for a in await _actions(client, config, 1) if a.title.startswith("Refactor"))
        endpoint.chat_replies.append({"content": "```python\n" + (repo / "config.py").read_text() + "```"})
        await client.code_action_resolve_async(refactor)

        endpoint.chat_replies.extend({"tool_calls": [call]} for call in AGENT_CALLS)
        result.agent_result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="qwen.agentRefactor", arguments=[{"instruction": "tidy up", "scope": "workspace"}]
            )
        )
        result.logs += [m.message for m in client.log_messages] + [m.message for m in client.messages]
    result.bodies = [_body_text(body) for body in endpoint.bodies]
    result.logs += [path.read_text(errors="replace") for path in (log_file, stderr_file) if path.exists()]
    result.completion_requests = endpoint.count("/v1/completions")
    result.chat_requests = endpoint.count("/chat/completions")
    return result
