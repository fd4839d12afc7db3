"""The agent end to end: the real server over stdio with a scripted model. The command reports ``$/progress``
per step and ends with one ``workspace/applyEdit`` request carrying the staged edit; ``$/cancelRequest`` and
the progress cancel stop it without any edit."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from lsp_helpers import indexing_done, open_document, running_server, script_env, scripted_server_command, wait_for
from workspace_edits import apply_workspace_edit

APP = "def total(values):\n    result = 0\n    for v in values:\n        result += v\n    return result\n"
GOOD = "def total(values):\n    return sum(values)\n"


def tool(name: str, **arguments) -> dict:
    return {"tool_calls": [{"name": name, "arguments": arguments}]}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text(APP)
    (root / ".env").write_text("API_TOKEN=hunter2\n")
    return root


def record_apply_edits(client, applied: bool = True) -> list[types.ApplyWorkspaceEditParams]:
    received: list[types.ApplyWorkspaceEditParams] = []

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        received.append(params)
        return types.ApplyWorkspaceEditResult(applied=applied, failure_reason=None if applied else "discarded")

    return received


def answer_message_requests(client, title: str | None) -> list[types.ShowMessageRequestParams]:
    """Answer every ``window/showMessageRequest`` with the button ``title`` (None: dismissed)."""
    asked: list[types.ShowMessageRequestParams] = []

    @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_message_request(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        asked.append(params)
        return types.MessageActionItem(title=title) if title else None

    return asked


async def run_command(client, arguments: dict, token: str | None = None, msg_id: str | None = None):
    params = types.ExecuteCommandParams(command="qwen.agentRefactor", arguments=[arguments], work_done_token=token)
    if msg_id is None:
        return await client.workspace_execute_command_async(params)
    return await client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)


async def test_agent_progress_then_one_apply_edit(tmp_path: Path, project: Path) -> None:
    env = script_env(
        tmp_path,
        chat_replies=[
            tool("read_file", path=".env"),
            tool("read_file", path="app.py"),
            tool("edit_file", path="app.py", old_text=APP, new_text=GOOD),
            tool("finish", summary="total() now uses sum()."),
        ],
    )
    uri = (project / "app.py").as_uri()
    async with running_server(scripted_server_command(), env, root=project) as client:
        received = record_apply_edits(client)
        await open_document(client, uri, APP)
        client.progress_reports["agent-1"] = []  # a client-created token, as VS Code sends it
        result = await run_command(
            client,
            {
                "instruction": "use sum",
                "scope": "file",
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            },
            token="agent-1",
        )
        assert result["applied"] is True and result["stopReason"] == "finished"
        assert result["summary"] == "total() now uses sum()."
        assert [s["tool"] for s in result["steps"]] == ["read_file", "read_file", "edit_file", "finish"]
        assert result["steps"][0]["ok"] is False and "secret" in result["steps"][0]["result"]
        assert result["files"] == [
            {"path": "app.py", "uri": uri, "added": 1, "removed": 4, "created": False, "syntaxError": None}
        ]
        assert "changes" not in result and "documentChanges" not in result  # clients must not apply it again
        assert len(received) == 1
        edit = received[0].edit
        assert received[0].label == "Qwen agent: use sum"
        assert apply_workspace_edit(edit, {uri: APP}) == {uri: GOOD}
        assert edit.change_annotations["qwen.agentRefactor"].needs_confirmation is True  # VS Code's refactor preview
        assert edit.document_changes[0].text_document.version == 1
        reports = client.progress_reports["agent-1"]
        assert isinstance(reports[0], types.WorkDoneProgressBegin) and reports[0].cancellable
        steps = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        assert "step 1/24: read_file .env" in steps and "step 3/24: edit_file app.py" in steps
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        counters = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="test.backendCounters")
        )
        prompts = json.dumps(counters["chat_requests"])
        assert "hunter2" not in prompts and "API_TOKEN" not in prompts
        assert (project / "app.py").read_text() == APP  # the server never writes; the client applies


async def test_neovim_gets_a_server_created_progress_and_plain_edits(tmp_path: Path, project: Path) -> None:
    env = script_env(
        tmp_path,
        chat_replies=[tool("create_file", path="NOTES.md", content="# notes\n"), tool("finish", summary="added notes")],
    )
    plugin = {"qwenLsp": {"reviewsAgentEdits": True}}  # the Neovim plugin reviews agent edits in its own diff
    server = running_server(scripted_server_command(), env, editor="neovim", root=project, experimental=plugin)
    async with server as client:
        received = record_apply_edits(client, applied=False)
        result = await run_command(client, {"instruction": "write notes", "scope": "workspace"})
        assert result["applied"] is False and result["failureReason"] == "discarded"
        edit = received[0].edit
        assert edit.change_annotations is None  # Neovim reviews through the plugin's own diff
        notes = (project / "NOTES.md").as_uri()
        assert apply_workspace_edit(edit, {}) == {notes: "# notes\n"}
        tokens = [t for t in client.progress_reports if str(t).startswith("qwen-lsp-agent-")]
        assert tokens and any(isinstance(r, types.WorkDoneProgressReport) for r in client.progress_reports[tokens[0]])


@pytest.mark.slow
async def test_cancel_request_stops_the_agent_without_an_edit(tmp_path: Path, project: Path) -> None:
    replies = [tool("search", query=f"q{i}") for i in range(40)]
    replies[0] = tool("edit_file", path="app.py", old_text="result = 0", new_text="result = 1")
    env = script_env(tmp_path, chat_replies=replies, delay_s=0.2)
    async with running_server(scripted_server_command(), env, root=project) as client:
        received = record_apply_edits(client)
        pending = asyncio.ensure_future(
            run_command(client, {"instruction": "x", "scope": "workspace"}, msg_id="agent-cancel")
        )
        await asyncio.sleep(1.0)
        client.cancel_request(types.CancelParams(id="agent-cancel"))
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(pending, 20)
        counters = {}
        for _ in range(3):  # the run stops at its next check; nothing more is asked of the model
            counters = await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="test.backendCounters")
            )
            await asyncio.sleep(0.5)
        left = counters["chat_replies_left"]
        await asyncio.sleep(1.0)
        again = await client.workspace_execute_command_async(types.ExecuteCommandParams(command="test.backendCounters"))
        assert again["chat_replies_left"] == left > 30
        assert received == []


async def test_progress_cancel_stops_the_agent_without_an_edit(tmp_path: Path, project: Path) -> None:
    replies = [tool("edit_file", path="app.py", old_text="result = 0", new_text="result = 1")]
    replies += [tool("search", query=f"q{i}") for i in range(40)]
    env = script_env(tmp_path, chat_replies=replies, delay_s=0.2)
    async with running_server(scripted_server_command(), env, root=project) as client:
        received = record_apply_edits(client)
        client.progress_reports["agent-2"] = []
        pending = asyncio.ensure_future(
            run_command(client, {"instruction": "x", "scope": "workspace"}, token="agent-2")
        )
        await wait_for(lambda: len(client.progress_reports["agent-2"]) >= 3, timeout=20)
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token="agent-2"))
        result = await asyncio.wait_for(pending, 20)
        assert result["stopReason"] == "cancelled" and result["applied"] is False
        assert result["files"] == [
            {
                "path": "app.py",
                "uri": (project / "app.py").as_uri(),
                "added": 1,
                "removed": 1,
                "created": False,
                "syntaxError": None,
            }
        ]
        assert received == []  # staged edits are dropped on cancel
        assert isinstance(client.progress_reports["agent-2"][-1], types.WorkDoneProgressEnd)


async def test_bad_arguments_are_a_clear_error(tmp_path: Path, project: Path) -> None:
    async with running_server(scripted_server_command(), script_env(tmp_path), root=project) as client:
        with pytest.raises(Exception, match="scope"):
            await run_command(client, {"instruction": "x", "scope": "everything"})
        assert client.error is None


async def test_verification_result_is_in_the_proposal_the_user_reviews(tmp_path: Path, project: Path) -> None:
    (project / "test_app.py").write_text(
        "from app import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n"
    )
    env = script_env(
        tmp_path,
        chat_replies=[
            tool("edit_file", path="app.py", old_text="    return result", new_text="    return -result"),
            tool("finish", summary="negated"),
        ],
    )
    options = {"agent": {"testCommand": f"{sys.executable} -m pytest -q -p no:cacheprovider"}}
    async with running_server(scripted_server_command(), env, root=project, initialization_options=options) as client:
        received = record_apply_edits(client, applied=False)
        client.progress_reports["agent-3"] = []
        result = await run_command(client, {"instruction": "negate", "scope": "workspace"}, token="agent-3")
        assert result["verification"]["passed"] is False and "1 failed" in result["verification"]["output"]
        assert received[0].label == "Qwen agent: negate (tests FAILED)"
        messages = [
            r.message for r in client.progress_reports["agent-3"] if isinstance(r, types.WorkDoneProgressReport)
        ]
        assert messages[-1] == "verification: FAILED"
        assert (project / "app.py").read_text() == APP


async def test_new_files_are_reported_when_the_editor_cannot_create_them(tmp_path: Path, project: Path) -> None:
    env = script_env(
        tmp_path,
        chat_replies=[
            tool("create_file", path="NOTES.md", content="# notes\n"),
            tool("edit_file", path="app.py", old_text="result = 0", new_text="result = 0  # sum"),
            tool("finish", summary="notes and a comment"),
        ],
    )
    async with running_server(scripted_server_command(), env, editor="emacs", root=project) as client:
        received = record_apply_edits(client)
        questions = answer_message_requests(client, "Apply")
        result = await run_command(client, {"instruction": "x", "scope": "workspace"})
        assert len(questions) == 1 and "NOTES.md" in questions[0].message  # no annotations: asked before applying
        assert result["notCreated"] == [(project / "NOTES.md").as_uri()] and result["applied"] is True
        uri = (project / "app.py").as_uri()
        assert apply_workspace_edit(received[0].edit, {uri: APP}) == {
            uri: APP.replace("result = 0", "result = 0  # sum")
        }


@pytest.mark.parametrize("answer", ["Discard", None])
async def test_editors_without_annotations_ask_the_user_before_applying(
    tmp_path: Path, project: Path, answer: str | None
) -> None:
    """Emacs declares no change annotations, so it would apply a workspace/applyEdit unseen: the user is asked
    first, and a refusal (or a dismissed question) sends nothing."""
    env = script_env(
        tmp_path,
        chat_replies=[
            tool("edit_file", path="app.py", old_text="result = 0", new_text="result = 0  # sum"),
            tool("finish", summary="a comment"),
        ],
    )
    async with running_server(scripted_server_command(), env, editor="emacs", root=project) as client:
        received = record_apply_edits(client)
        questions = answer_message_requests(client, answer)
        result = await run_command(client, {"instruction": "x", "scope": "workspace"})
        assert [q.message.startswith("Qwen agent proposes changes to app.py (+1 -1)") for q in questions] == [True]
        assert [a.title for a in questions[0].actions] == ["Apply", "Discard"]
        assert received == [] and result["applied"] is False
        assert result["failureReason"] == "the user did not apply the proposed edit"
        assert (project / "app.py").read_text() == APP


async def test_the_agent_search_lists_definitions_from_the_repository_index(tmp_path: Path, project: Path) -> None:
    """The symbol lookup comes from the context provider (``find_definitions``), for whichever provider it is."""
    env = script_env(tmp_path, chat_replies=[tool("search", query="total"), tool("finish", summary="found it")])
    async with running_server(scripted_server_command(), env, root=project) as client:
        await wait_for(lambda: indexing_done(client))
        result = await run_command(client, {"instruction": "where is total defined?", "scope": "workspace"})
    first = result["steps"][0]
    assert first["tool"] == "search" and first["ok"]
    assert "definition: app.py:1 function total" in first["result"]
