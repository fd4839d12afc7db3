"""The real server over stdio with a scripted backend: protocol and pipeline logic (latest wins, cancel,
stale answers, positions, statistics). The real model paths have their own tests."""

from __future__ import annotations

import asyncio
import json

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcRequestCancelled

from lsp_helpers import (
    cancel_request,
    first_text,
    inline_completion,
    insert_text,
    open_document,
    running_server,
    script_env,
    scripted_server_command,
    start_inline_completion,
)

URI = "file:///work/demo/app.py"


async def counters(client) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="test.backendCounters"))


async def test_initialize_advertises_inline_completion_and_commands(tmp_path):
    server = running_server(scripted_server_command(), script_env(tmp_path))
    async with server as client:
        caps = server.initialize_result.capabilities
        assert caps.inline_completion_provider is not None
        assert caps.completion_provider is not None
        assert caps.text_document_sync.change == types.TextDocumentSyncKind.Incremental
        assert "qwen.acceptCompletion" in caps.execute_command_provider.commands
        assert "qwen.inspectContext" in caps.execute_command_provider.commands
        assert client.error is None


async def test_completion_after_did_open_and_did_change(tmp_path):
    env = script_env(tmp_path, replies=["a + b\n"], default_reply="")
    async with running_server(scripted_server_command(), env) as client:
        await open_document(client, URI, "def add(a, b):\n    \n")
        insert_text(client, URI, 2, 1, 4, "return ")
        result = await inline_completion(client, URI, 1, 11)
        assert first_text(result) == "a + b"
        item = result.items[0]
        assert item.range.start == types.Position(line=1, character=11)
        assert item.command.command == "qwen.acceptCompletion"
        seen = await counters(client)
        # The prompt has the edited text and the FIM markers in Qwen's order.
        assert seen["prompts"][0].endswith("<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>")


async def test_utf16_positions_after_emoji(tmp_path):
    env = script_env(tmp_path, default_reply="1)")
    async with running_server(scripted_server_command(), env) as client:
        text = 'label = "😀😀"; total = sum(\n'
        await open_document(client, URI, text)
        # UTF-16: each emoji is two code units; the cursor is right after "sum(".
        character = len(text.rstrip("\n").encode("utf-16-le")) // 2
        result = await inline_completion(client, URI, 0, character)
        assert first_text(result) == "1)"
        prompt = (await counters(client))["prompts"][0]
        assert '<|fim_prefix|>label = "😀😀"; total = sum(<|fim_suffix|>' in prompt


async def test_latest_request_wins_and_cancel_stops_generation(tmp_path):
    env = script_env(tmp_path, default_reply="x" * 4000, delay_s=0.05, chunk_size=1)
    async with running_server(
        scripted_server_command(), env, initialization_options={"completion": {"debounceMs": 0}}
    ) as client:
        await open_document(client, URI, "value = \n")
        first = asyncio.ensure_future(inline_completion(client, URI, 0, 8))
        await asyncio.sleep(0.3)
        second_id, second = start_inline_completion(client, URI, 0, 8)
        await asyncio.sleep(0.3)
        cancel_request(client, second_id)
        first_result = await asyncio.wait_for(first, 10)
        assert first_text(first_result) is None  # superseded by the second request
        with pytest.raises(JsonRpcRequestCancelled):
            await asyncio.wait_for(second, 10)
        seen = {}
        for _ in range(100):  # the backend notices cancellation at its next token
            seen = await counters(client)
            if seen["calls_cancelled"] >= 2:
                break
            await asyncio.sleep(0.05)
        assert seen and seen["calls_started"] == 2 and seen["calls_cancelled"] == 2
        assert seen["inflight_superseded"] >= 1


async def test_typing_storm_makes_one_model_call_per_pause(tmp_path):
    env = script_env(tmp_path, default_reply="done")
    async with running_server(
        scripted_server_command(), env, initialization_options={"completion": {"debounceMs": 150}}
    ) as client:
        await open_document(client, URI, "\n")
        pending = []
        for index, char in enumerate("result = compute"):
            insert_text(client, URI, index + 2, 0, index, char)
            pending.append(asyncio.ensure_future(inline_completion(client, URI, 0, index + 1)))
            await asyncio.sleep(0.02)
        results = await asyncio.gather(*pending)
        assert [first_text(r) for r in results[:-1]] == [None] * (len(results) - 1)
        assert first_text(results[-1]) == "done"
        assert (await counters(client))["calls_started"] == 1


async def test_bad_requests_get_empty_results_and_server_stays_up(tmp_path):
    env = script_env(tmp_path, default_reply="ok()")
    async with running_server(scripted_server_command(), env) as client:
        assert await inline_completion(client, "file:///never/opened.py", 0, 0) is None
        await open_document(client, URI, "x = 1\n")
        assert await inline_completion(client, URI, 40, 0) is None  # past the end
        assert first_text(await inline_completion(client, URI, 1, 0)) == "ok()"
        assert client.error is None


async def test_invalid_setting_warns_once_and_keeps_default(tmp_path):
    env = script_env(tmp_path, default_reply="ok()")
    options = {"completion": {"debounceMs": "soon", "maxTokens": 64}}
    async with running_server(scripted_server_command(), env, initialization_options=options) as client:
        await open_document(client, URI, "x = 1\n")
        assert first_text(await inline_completion(client, URI, 1, 0)) == "ok()"
        warnings = [m.message for m in client.messages if "debounce_ms" in m.message]
        assert len(warnings) == 1 and "using the default" in warnings[0]


async def test_acceptance_statistics_are_recorded_locally(tmp_path):
    env = script_env(tmp_path, default_reply="print('hi')")
    async with running_server(scripted_server_command(), env) as client:
        await open_document(client, URI, "\n")
        result = await inline_completion(client, URI, 0, 0)
        completion_id = result.items[0].command.arguments[0]["id"]
        client.protocol.notify("qwen/didShowCompletion", {"id": completion_id})
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="qwen.acceptCompletion", arguments=[{"id": completion_id}])
        )
    lines = [json.loads(line) for line in (tmp_path / "data" / "stats.jsonl").read_text().splitlines()]
    assert [entry["event"] for entry in lines] == ["offered", "shown", "accepted"]
    assert {entry["id"] for entry in lines} == {completion_id}


async def test_completion_fallback_for_clients_without_inline_completion(tmp_path):
    env = script_env(tmp_path, default_reply="return 42")
    async with running_server(scripted_server_command(), env, editor="neovim@v0.10.0", inline=False) as client:
        await open_document(client, URI, "def answer():\n    \n")
        result = await client.text_document_completion_async(
            types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri=URI), position=types.Position(line=1, character=4)
            )
        )
        assert result.items[0].text_edit.new_text == "return 42"


async def test_completion_fallback_does_not_ask_again_where_nothing_is_ever_completed(tmp_path):
    """A menu client re-requests per keystroke while the list is incomplete: not in a file kept out, nor in a
    disabled language; elsewhere an empty answer stays incomplete (the next keystroke may bring one)."""
    env = script_env(tmp_path, default_reply="")
    options = {"completion": {"disabledLanguages": ["markdown"]}}
    async with running_server(
        scripted_server_command(), env, editor="neovim@v0.10.0", inline=False, initialization_options=options
    ) as client:
        cases = {
            "file:///work/demo/.env": ("API_KEY=", "plaintext", False),
            "file:///work/demo/notes.md": ("# notes\n", "markdown", False),
            URI: ("def answer():\n    \n", "python", True),
        }
        for uri, (text, language, incomplete) in cases.items():
            await open_document(client, uri, text, language_id=language)
            result = await client.text_document_completion_async(
                types.CompletionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=0, character=0)
                )
            )
            assert (result.is_incomplete, list(result.items)) == (incomplete, []), uri
