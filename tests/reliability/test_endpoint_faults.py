"""The installed ``qwen-lsp`` over stdio with the remote backend against a fault-injecting OpenAI-compatible
server (tests/reliability/fault_endpoint.py): every request is answered in bounded time, each distinct problem
is shown once, and nothing cut short is shown or cached."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest
from fault_endpoint import FaultEndpoint
from lsprotocol import types

from lsp_helpers import (
    first_text,
    inline_completion,
    open_document,
    running_server,
    server_env,
    start_inline_completion,
)
from ports import free_port

QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]
URI = "file:///work/demo/app.py"
TEXT = "".join(f"value_{i} = \n" for i in range(20))  # one line per request: no answer comes from the cache
MAX_SECONDS = 3.0
BOUND = MAX_SECONDS + 9  # the limit plus a busy machine's slack; without the limit these take minutes


def fault_env(tmp_path: Path, base_url: str, retries: int = 0) -> dict[str, str]:
    return server_env(
        tmp_path,
        QWEN_LSP_BACKEND__KIND="remote",
        QWEN_LSP_BACKEND__REMOTE__BASE_URL=base_url,
        QWEN_LSP_BACKEND__REMOTE__API_KEY_ENV="QWEN_LSP_TEST_UNSET_KEY",
        QWEN_LSP_BACKEND__REMOTE__MAX_RETRIES=str(retries),
        QWEN_LSP_BACKEND__REMOTE__CONNECT_TIMEOUT_S="2",
        QWEN_LSP_COMPLETION__DEBOUNCE_MS="0",
        QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE="8",
        QWEN_LSP_COMPLETION__MAX_SECONDS=str(MAX_SECONDS),
        # no background requests: each fault endpoint's answers (e.g. 500 and ok in turn) go to the test's requests
        QWEN_LSP_COMPLETION__SPECULATE="false",
        QWEN_LSP_COMPLETION__PREWARM="false",
    )


def errors(client) -> list[str]:
    return [m.message for m in client.messages if m.type == types.MessageType.Error]


async def complete_line(client, line: int) -> str | None:
    """One completion at the end of ``line``, answered within BOUND seconds."""
    result = await asyncio.wait_for(inline_completion(client, URI, line, len(f"value_{line} = ")), BOUND)
    return first_text(result)


@pytest.mark.slow
async def test_a_superseded_request_returns_at_once_while_the_endpoint_never_answers(tmp_path):
    with FaultEndpoint("never") as endpoint:
        async with running_server(QWEN_LSP, fault_env(tmp_path, endpoint.base_url)) as client:
            await open_document(client, URI, TEXT)
            _, first = start_inline_completion(client, URI, 0, 10)
            await asyncio.sleep(0.5)  # the first request now waits for the endpoint's connection check
            _, second = start_inline_completion(client, URI, 1, 10)
            sent = time.monotonic()
            assert await asyncio.wait_for(first, 2.0) is None  # superseded: answered at once
            superseded_after = time.monotonic() - sent
            assert await asyncio.wait_for(second, BOUND) is None  # the latest waits at most completion.max_seconds
            assert superseded_after < 2.0 and errors(client) == []  # the check itself has not failed (yet)


@pytest.mark.slow
async def test_a_trickling_completion_is_stopped_at_the_wall_clock_limit(tmp_path):
    with FaultEndpoint("trickle", trickle_s=0.5) as endpoint:  # 100 tokens at 0.5 s each: 50 s
        async with running_server(QWEN_LSP, fault_env(tmp_path, endpoint.base_url)) as client:
            await open_document(client, URI, TEXT)
            for line in range(2):
                started = time.monotonic()
                assert await complete_line(client, line) is None  # cut short: dropped, not shown
                assert time.monotonic() - started < BOUND
            shown = errors(client)
            assert len(shown) == 1 and "completion.max_seconds" in shown[0], shown
            assert len(endpoint.requests) == 2


@pytest.mark.slow
async def test_max_tokens_is_honoured_when_the_endpoint_ignores_it(tmp_path):
    with FaultEndpoint("flood") as endpoint:  # 100 tokens, whatever max_tokens says
        async with running_server(QWEN_LSP, fault_env(tmp_path, endpoint.base_url)) as client:
            await open_document(client, URI, TEXT)
            text = await complete_line(client, 0)
            assert endpoint.requests[0]["max_tokens"] == 8
            assert text == "x" * 8, text


@pytest.mark.slow
async def test_a_truncated_stream_is_dropped_not_shown_or_cached(tmp_path):
    with FaultEndpoint("truncated", reply="return total") as endpoint:
        async with running_server(QWEN_LSP, fault_env(tmp_path, endpoint.base_url)) as client:
            await open_document(client, URI, TEXT)
            for _ in range(3):
                assert await complete_line(client, 0) is None
            assert len(endpoint.requests) == 3  # nothing answered from the cache
            shown = errors(client)
            assert len(shown) == 1 and "ended its stream" in shown[0], shown
            endpoint.mode = "ok"  # recovery
            assert await complete_line(client, 0) == "return total"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["bad_json", "bad_models"])
async def test_invalid_json_from_the_endpoint_gives_one_clear_message(tmp_path, mode):
    with FaultEndpoint(mode) as endpoint:
        async with running_server(QWEN_LSP, fault_env(tmp_path, endpoint.base_url)) as client:
            await open_document(client, URI, TEXT)
            for line in range(5):
                assert await complete_line(client, line) is None
            await asyncio.sleep(0.2)
            shown = errors(client)
            assert len(shown) == 1 and "not OpenAI-compatible JSON" in shown[0], shown
            endpoint.mode = "ok"
            assert await complete_line(client, 6) == "value = 42"


@pytest.mark.slow
async def test_a_flapping_endpoint_shows_one_message(tmp_path):
    with FaultEndpoint("flap") as endpoint:  # 500 and a good answer in turn
        async with running_server(QWEN_LSP, fault_env(tmp_path, endpoint.base_url)) as client:
            await open_document(client, URI, TEXT)
            answers = [await complete_line(client, line) for line in range(10)]
            assert answers.count("value = 42") == 5 and answers.count(None) == 5, answers
            shown = errors(client)
            assert len(shown) == 1 and "HTTP 500" in shown[0], shown


@pytest.mark.parametrize(
    ("mode", "retries", "expected"),
    [
        ("refused", 0, "cannot connect"),
        ("http500", 0, "HTTP 500"),
        ("http429", 0, "HTTP 429"),
        ("http429", 2, "completion.max_seconds"),  # the SDK's retries wait out Retry-After: 60: minutes per request
        ("hang", 0, "completion.max_seconds"),  # two tokens, then silence
    ],
)
@pytest.mark.slow
async def test_failing_endpoints_are_answered_in_bounded_time_with_one_message(tmp_path, mode, retries, expected):
    with FaultEndpoint(mode) as endpoint:
        base_url = f"http://127.0.0.1:{free_port()}/v1" if mode == "refused" else endpoint.base_url
        async with running_server(QWEN_LSP, fault_env(tmp_path, base_url, retries)) as client:
            await open_document(client, URI, TEXT)
            for line in (0, 1, 0):
                assert await complete_line(client, line) is None
            await asyncio.sleep(0.2)
            shown = errors(client)
            assert len(shown) == 1 and expected in shown[0], shown
