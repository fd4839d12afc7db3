"""Background work over LSP: warm-ups on qwen/didFocus, saved KV states dropped on edits above the cursor, the
time budget's shorter prompt, speculative completions served after an accept. The real server over stdio; the
local backend on a tiny random-weight GGUF (real llama.cpp), the scripted backend for the speculation logic."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_helpers import (
    first_text,
    inline_completion,
    insert_text,
    open_document,
    running_server,
    script_env,
    scripted_server_command,
    server_env,
)
from tiny_gguf import write_tiny_qwen_gguf

pytest.importorskip("llama_cpp")

CODE = "".join(f"def function_{i}(value):\n    return value * {i} + {i % 7}\n\n\n" for i in range(30))
CURSOR = (62, 0)  # the empty line after function_15
URI_A = "file:///work/demo/a.py"
URI_B = "file:///work/demo/b.py"
QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_qwen_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf", arch="qwen2")


def local_env(tmp_path: Path, model: Path, **extra: str) -> dict[str, str]:
    settings = {
        "QWEN_LSP_BACKEND__LOCAL__MODEL": str(model),
        "QWEN_LSP_BACKEND__LOCAL__N_THREADS": "1",
        "QWEN_LSP_BACKEND__LOCAL__N_CTX": "4096",
        "QWEN_LSP_BACKEND__LOCAL__REPACK": "false",
        "QWEN_LSP_COMPLETION__DEBOUNCE_MS": "0",
        "QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE": "4",
        "QWEN_LSP_CONTEXT__ENABLED": "false",
        "QWEN_LSP_COMPLETION__PROMPT_BUDGET_MS": "0",  # the tiny model's speed is not known before the first prompt
    }
    return server_env(tmp_path, **{**settings, **extra})


async def status(client) -> dict:
    return await client.workspace_execute_command_async(types.ExecuteCommandParams(command="qwen.serverStatus"))


async def wait_status(client, predicate, timeout: float = 60.0) -> dict:
    """The server status once ``predicate`` holds for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    latest: dict = {}
    while loop.time() < deadline:
        latest = await status(client)
        if predicate(latest):
            return latest
        await asyncio.sleep(0.1)
    raise AssertionError(f"status never matched: {latest}")


async def inspect(client, uri: str, line: int, character: int) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="qwen.inspectContext",
            arguments=[{"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}],
        )
    )


def focus(client, uri: str, position: tuple[int, int] | None = None) -> None:
    params: dict = {"textDocument": {"uri": uri}}
    if position:
        params["position"] = {"line": position[0], "character": position[1]}
    client.protocol.notify("qwen/didFocus", params)


def stats_events(tmp_path: Path) -> list[str]:
    path = tmp_path / "data" / "stats.jsonl"
    return [json.loads(line)["event"] for line in path.read_text().splitlines()] if path.exists() else []


async def test_did_focus_warms_the_document_and_touches_no_counters_documents_or_statistics(tmp_path, tiny):
    async with running_server(QWEN_LSP, local_env(tmp_path, tiny)) as client:
        await wait_status(client, lambda s: s["state"] == "ready")
        await open_document(client, URI_A, CODE)
        before = await inspect(client, URI_A, *CURSOR)
        focus(client, URI_A, CURSOR)
        warmed = await wait_status(client, lambda s: s["background"]["warmups_finished"] >= 1)
        assert warmed["background"]["warmup_tokens"] > 300
        assert warmed["kv_cache"]["live"] == URI_A
        assert warmed["pipeline"]["requests"] == 0 and warmed["pipeline"]["model_calls"] == 0
        assert (await inspect(client, URI_A, *CURSOR))["prompt"] == before["prompt"]  # the document is as it was
    assert stats_events(tmp_path) == []


async def test_saved_states_are_dropped_when_the_file_changes_above_the_cursor(tmp_path, tiny):
    async with running_server(QWEN_LSP, local_env(tmp_path, tiny, QWEN_LSP_COMPLETION__SPECULATE="false")) as client:
        await open_document(client, URI_A, CODE)
        await open_document(client, URI_B, CODE.replace("value", "item"))
        await inline_completion(client, URI_A, *CURSOR)
        await inline_completion(client, URI_B, *CURSOR)
        assert URI_A in (await status(client))["kv_cache"]["saved"]
        insert_text(client, URI_A, 2, CURSOR[0], CURSOR[1], "re")  # typing at the cursor keeps it
        assert URI_A in (await status(client))["kv_cache"]["saved"]
        insert_text(client, URI_A, 3, 2, 0, "# a comment\n")  # an edit above the cursor drops it
        after = await status(client)
        assert URI_A not in after["kv_cache"]["saved"] and after["background"]["states_dropped"] == 1
        assert after["kv_cache"]["live"] == URI_B


async def test_a_cold_prompt_over_the_budget_is_answered_from_a_shorter_one_then_the_full_one_warms(tmp_path, tiny):
    env = local_env(tmp_path, tiny, QWEN_LSP_COMPLETION__PROMPT_BUDGET_MS="5", QWEN_LSP_COMPLETION__SPECULATE="false")
    async with running_server(QWEN_LSP, env) as client:
        await open_document(client, URI_A, CODE)
        assert first_text(await inline_completion(client, URI_A, *CURSOR))
        quick = await wait_status(client, lambda s: s["background"]["warmups_finished"] >= 1)
        assert quick["pipeline"]["quick_prompts"] == 1
        assert quick["background"]["warmup_tokens"] > 300  # the full prompt, in the background
        insert_text(client, URI_A, 2, CURSOR[0], CURSOR[1], "r")
        await inline_completion(client, URI_A, CURSOR[0], CURSOR[1] + 1)
        assert (await status(client))["pipeline"]["quick_prompts"] == 1  # warm now: the full prompt answers


async def test_the_speculative_completion_is_served_after_an_accept(tmp_path):
    env = script_env(tmp_path, replies=["compute(1)"], background_replies=["  # the next one"])
    async with running_server(
        scripted_server_command(), env, initialization_options={"completion": {"debounceMs": 0}}
    ) as client:
        await open_document(client, URI_A, "total = \n")
        assert first_text(await inline_completion(client, URI_A, 0, 8)) == "compute(1)"
        await wait_status(client, lambda s: s["background"]["speculations_cached"] == 1)
        counters = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="test.backendCounters")
        )
        assert counters["background_prompts"] and "total = compute(1)" in counters["background_prompts"][0]
        insert_text(client, URI_A, 2, 0, 8, "compute(1)")  # Tab
        assert first_text(await inline_completion(client, URI_A, 0, 18)) == "  # the next one"
        seen = await status(client)
        assert seen["pipeline"]["model_calls"] == 1 and seen["pipeline"]["cache_hits"] == 1
        assert seen["background"]["pipeline"]["model_calls"] >= 1
    assert stats_events(tmp_path) == ["offered", "offered"]  # the two answers shown; nothing for the speculation


async def test_a_pause_after_an_edit_warms_the_prompt_at_the_edit(tmp_path, tiny):
    env = local_env(tmp_path, tiny, QWEN_LSP_COMPLETION__PREWARM_AFTER_MS="200")
    async with running_server(QWEN_LSP, env) as client:
        await wait_status(client, lambda s: s["state"] == "ready")
        await open_document(client, URI_A, CODE)
        insert_text(client, URI_A, 2, CURSOR[0], CURSOR[1], "    ")  # no completion request follows
        warmed = await wait_status(client, lambda s: s["background"]["warmups_finished"] >= 1)
        assert warmed["background"]["warmup_tokens"] > 300 and warmed["pipeline"]["requests"] == 0
