"""Code actions end to end: the real server over stdio with a scripted model. Menu → resolve → the client
applies the WorkspaceEdit; Explain opens a markdown document; qwen.refactor returns an edit. Run with the
captured capabilities of VS Code and of Neovim."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_helpers import open_document, running_server, script_env, scripted_server_command
from workspace_edits import apply_workspace_edit, as_workspace_edit, structure_code_actions_like_editors

SOURCE = "import math\n\n\ndef area(r):\n    return 3.14*r*r\n\n\ndef main():\n    print(area(2))\n"
EDITORS = ["visual-studio-code", "neovim"]


def fenced(code: str) -> dict:
    return {"content": f"Here you go:\n\n```python\n{code}```\n\nThis is clearer."}


def cursor(line: int, character: int = 4) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=character), end=types.Position(line=line, character=character)
    )


async def actions_at(client, uri: str, lsp_range: types.Range, diagnostics=(), only=None) -> list[types.CodeAction]:
    structure_code_actions_like_editors(client)
    result = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=lsp_range,
            context=types.CodeActionContext(diagnostics=list(diagnostics), only=only),
        )
    )
    return list(result or [])


async def chat_requests(client) -> list:
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="test.backendCounters"))
    return result["chat_requests"]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "geometry.py").write_text(SOURCE)
    return root


async def test_initialize_advertises_actions_and_commands(tmp_path: Path) -> None:
    server = running_server(scripted_server_command(), script_env(tmp_path))
    async with server:
        caps = server.initialize_result.capabilities
        assert caps.code_action_provider.resolve_provider is True
        assert "quickfix.qwen" in caps.code_action_provider.code_action_kinds
        for command in ("qwen.refactor", "qwen.explain", "qwen.agentRefactor"):
            assert command in caps.execute_command_provider.commands


@pytest.mark.parametrize("editor", EDITORS)
async def test_menu_then_resolve_then_apply(tmp_path: Path, project: Path, editor: str) -> None:
    better = "def area(r):\n    return math.pi * r ** 2\n"
    env = script_env(tmp_path, chat_replies=[fenced(better)])
    uri = (project / "geometry.py").as_uri()
    async with running_server(scripted_server_command(), env, editor=editor, root=project) as client:
        await open_document(client, uri, SOURCE)
        actions = await actions_at(client, uri, cursor(4))
        titles = [a.title for a in actions]
        assert titles == [
            "Refactor with Qwen…",
            "Explain (Qwen)",
            "Add docstring/comments (Qwen)",
            "Write tests (Qwen)",
        ]
        assert all(a.edit is None for a in actions)
        assert await chat_requests(client) == []  # the menu never calls the model
        resolved = await client.code_action_resolve_async(actions[0])
        texts = apply_workspace_edit(resolved.edit, {uri: SOURCE})
        assert texts[uri] == SOURCE.replace("def area(r):\n    return 3.14*r*r\n", better)
        prompt = (await chat_requests(client))[0][1]["content"]
        assert "```python\ndef area(r):\n    return 3.14*r*r\n```" in prompt  # the cursor grew to the function
        assert "Improve the readability" in prompt  # the default instruction
        if editor == "visual-studio-code":
            assert resolved.edit.document_changes[0].text_document.version == 1


async def test_fix_diagnostic_uses_the_context_diagnostics(tmp_path: Path, project: Path) -> None:
    fixed = "def main():\n    print(area(2.0))\n"
    env = script_env(tmp_path, chat_replies=[fenced(fixed)])
    uri = (project / "geometry.py").as_uri()
    diagnostic = types.Diagnostic(
        range=types.Range(start=types.Position(line=8, character=15), end=types.Position(line=8, character=16)),
        message="Argument should be a float",
        source="mypy",
        code="arg-type",
    )
    async with running_server(scripted_server_command(), env, root=project) as client:
        await open_document(client, uri, SOURCE)
        actions = await actions_at(client, uri, diagnostic.range, [diagnostic], only=["quickfix"])
        assert [a.title for a in actions] == ["Fix with Qwen: Argument should be a float"]
        resolved = await client.code_action_resolve_async(actions[0])
        assert apply_workspace_edit(resolved.edit, {uri: SOURCE})[uri].endswith(fixed)
        prompt = (await chat_requests(client))[0][1]["content"]
        assert "line 9 (selection line 2): Argument should be a float [mypy arg-type]" in prompt


async def test_write_tests_creates_the_test_file(tmp_path: Path, project: Path) -> None:
    tests = "from geometry import area\n\n\ndef test_area():\n    assert area(1) > 3\n"
    env = script_env(tmp_path, chat_replies=[fenced(tests)])
    uri = (project / "geometry.py").as_uri()
    async with running_server(scripted_server_command(), env, root=project) as client:
        await open_document(client, uri, SOURCE)
        action = next(a for a in await actions_at(client, uri, cursor(4)) if a.kind == "refactor.qwen.tests")
        resolved = await client.code_action_resolve_async(action)
        target = (project / "tests" / "test_geometry.py").as_uri()
        assert apply_workspace_edit(resolved.edit, {uri: SOURCE}) == {uri: SOURCE, target: tests}
        assert "importable as `geometry`" in (await chat_requests(client))[0][1]["content"]


async def test_explain_opens_a_markdown_document(tmp_path: Path, project: Path) -> None:
    env = script_env(
        tmp_path, chat_replies=[{"content": "<think>short</think>\n`area` returns the **area** of a circle."}]
    )
    uri = (project / "geometry.py").as_uri()
    async with running_server(scripted_server_command(), env, root=project) as client:
        await open_document(client, uri, SOURCE)
        explain = next(a for a in await actions_at(client, uri, cursor(4)) if a.title == "Explain (Qwen)")
        resolved = await client.code_action_resolve_async(explain)
        command = resolved.command
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command.command, arguments=command.arguments)
        )
        assert result["markdown"] == "`area` returns the **area** of a circle."
        shown = client.shown_documents[-1]
        assert shown.uri == result["uri"] and shown.uri.endswith(".md") and shown.take_focus
        document = Path(types.TextDocumentIdentifier(uri=shown.uri).uri.removeprefix("file://"))
        assert "returns the **area**" in document.read_text() and "short" not in document.read_text()


async def test_refactor_command_with_an_instruction_returns_an_edit(tmp_path: Path, project: Path) -> None:
    typed = "def area(r: float) -> float:\n    return 3.14*r*r\n"
    env = script_env(tmp_path, chat_replies=[fenced(typed)])
    uri = (project / "geometry.py").as_uri()
    selection = types.Range(start=types.Position(line=3, character=0), end=types.Position(line=4, character=19))
    async with running_server(scripted_server_command(), env, root=project) as client:
        await open_document(client, uri, SOURCE)
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="qwen.refactor",
                arguments=[
                    {
                        "textDocument": {"uri": uri},
                        "range": json.loads(
                            json.dumps({"start": {"line": 3, "character": 0}, "end": {"line": 4, "character": 19}})
                        ),
                        "instruction": "add type hints",
                    }
                ],
            )
        )
        assert "documentChanges" in json.dumps(result) or "changes" in json.dumps(result)
        edit = as_workspace_edit(result)
        assert apply_workspace_edit(edit, {uri: SOURCE})[uri] == SOURCE.replace(
            "def area(r):\n", "def area(r: float) -> float:\n"
        )
        assert "Task: add type hints" in (await chat_requests(client))[0][1]["content"]
        assert selection.start.line == 3


async def test_answer_without_code_is_reported_and_changes_nothing(tmp_path: Path, project: Path) -> None:
    env = script_env(tmp_path, chat_replies=[{"content": "<think>I am not sure what to do here"}])
    uri = (project / "geometry.py").as_uri()
    async with running_server(scripted_server_command(), env, root=project) as client:
        await open_document(client, uri, SOURCE)
        action = (await actions_at(client, uri, cursor(4)))[0]
        resolved = await client.code_action_resolve_async(action)
        assert resolved.edit is None
        assert any("thinking" in m.message and m.type == types.MessageType.Error for m in client.messages)
        assert client.error is None


async def test_no_actions_on_secret_files(tmp_path: Path, project: Path) -> None:
    uri = (project / ".env").as_uri()
    async with running_server(scripted_server_command(), script_env(tmp_path), root=project) as client:
        await open_document(client, uri, "API_TOKEN=hunter2\n", language_id="dotenv")
        assert await actions_at(client, uri, cursor(0, 3)) == []
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command="qwen.refactor",
                arguments=[
                    {
                        "textDocument": {"uri": uri},
                        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 5}},
                    }
                ],
            )
        )
        assert result is None  # refused, and the user is told why (an error reply is silent in VS Code)
        assert any("secret" in m.message and m.type == types.MessageType.Error for m in client.messages)
        assert await chat_requests(client) == []


async def test_clients_without_resolve_get_a_command_that_applies_the_edit(tmp_path: Path, project: Path) -> None:
    better = "def area(r):\n    return math.pi * r ** 2\n"
    env = script_env(tmp_path, chat_replies=[fenced(better)])
    uri = (project / "geometry.py").as_uri()
    async with running_server(scripted_server_command(), env, editor="emacs", root=project) as client:
        received: list[types.ApplyWorkspaceEditParams] = []
        client.feature(types.WORKSPACE_APPLY_EDIT)(
            lambda params: received.append(params) or types.ApplyWorkspaceEditResult(applied=True)
        )
        await open_document(client, uri, SOURCE)
        refactor = (await actions_at(client, uri, cursor(4)))[0]
        assert refactor.command.command == "qwen.applyAction" and refactor.edit is None
        result = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=refactor.command.command, arguments=refactor.command.arguments)
        )
        assert result["applied"] is True and received[0].label == "Refactor with Qwen"
        assert apply_workspace_edit(received[0].edit, {uri: SOURCE})[uri] == SOURCE.replace(
            "def area(r):\n    return 3.14*r*r\n", better
        )


async def test_answers_cut_off_at_max_tokens(tmp_path: Path, project: Path) -> None:
    """A cut-off refactor would replace the selection with half of it: refused. Cut-off tests keep the complete
    test functions."""
    cut_tests = (
        "```python\nfrom geometry import area\n\n\ndef test_one():\n    assert area(1) > 3\n\n\n"
        "def test_two():\n    assert area("
    )
    env = script_env(
        tmp_path,
        chat_replies=[
            {"content": "```python\ndef area(r):\n    return math.pi", "finish_reason": "length"},
            {"content": cut_tests, "finish_reason": "length"},
        ],
    )
    uri = (project / "geometry.py").as_uri()
    async with running_server(scripted_server_command(), env, root=project) as client:
        await open_document(client, uri, SOURCE)
        actions = await actions_at(client, uri, cursor(4))
        refused = await client.code_action_resolve_async(actions[0])
        assert refused.edit is None and any("cut off at actions.max_tokens" in m.message for m in client.messages)
        tests = await client.code_action_resolve_async(next(a for a in actions if a.kind == "refactor.qwen.tests"))
        target = (project / "tests" / "test_geometry.py").as_uri()
        created = apply_workspace_edit(tests.edit, {uri: SOURCE})[target]
        assert created == "from geometry import area\n\n\ndef test_one():\n    assert area(1) > 3\n"
