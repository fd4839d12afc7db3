"""Every request gets exactly one answer, whatever the client sends: wrong parameter types, unknown methods,
out-of-range positions, bad ids, malformed JSON, requests before ``initialize`` and after ``shutdown``. The real
server over raw stdio; stdout carries nothing but frames; the server stays alive."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_lsp import RawServer, new_id, scripted_env

URI = "file:///work/fuzz/app.py"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
positions = st.integers(-(2**33), 2**33) | st.sampled_from([-1, 0, 2**31 - 1, 2**31, 2**32, 10**6])
# fmt: off
METHODS = ["textDocument/inlineCompletion", "textDocument/completion", "textDocument/codeAction",
           "workspace/executeCommand", "textDocument/hover", "no/such/method", "$/custom", "codeAction/resolve"]
# fmt: on
COMMANDS = ["qwen.serverStatus", "qwen.inspectContext", "qwen.acceptCompletion", "not.a.command"]


def completion_params(line, character):
    return {
        "textDocument": {"uri": URI},
        "position": {"line": line, "character": character},
        "context": {"triggerKind": 2},
    }


def mutate(value, path_choice, replacement):
    """``value`` with one leaf (picked by ``path_choice``) replaced by ``replacement``."""
    if isinstance(value, dict) and value:
        key = sorted(value)[path_choice % len(value)]
        return {**value, key: mutate(value[key], path_choice // 7, replacement)}
    return replacement


@st.composite
def requests(draw):
    """(kind, message) where kind says whether the message is a well-formed request that must be answered."""
    kind = draw(st.sampled_from(["wrong_types", "random_params", "position", "command", "bad_id", "notification"]))
    method = draw(st.sampled_from(METHODS))
    if kind == "wrong_types":
        params = mutate(completion_params(0, 0), draw(st.integers(0, 10**4)), draw(json_values))
        return "request", {
            "jsonrpc": "2.0",
            "id": new_id(),
            "method": "textDocument/inlineCompletion",
            "params": params,
        }
    if kind == "random_params":
        return "request", {"jsonrpc": "2.0", "id": new_id(), "method": method, "params": draw(json_values)}
    if kind == "position":
        method = draw(st.sampled_from(["textDocument/inlineCompletion", "textDocument/completion"]))
        params = completion_params(draw(positions), draw(positions))
        return "request", {"jsonrpc": "2.0", "id": new_id(), "method": method, "params": params}
    if kind == "command":
        arguments = draw(
            st.lists(json_values, max_size=2)
            | st.just([{"textDocument": {"uri": URI}, "position": {"line": draw(positions), "character": 0}}])
        )
        params = {"command": draw(st.sampled_from(COMMANDS)), "arguments": arguments}
        return "request", {"jsonrpc": "2.0", "id": new_id(), "method": "workspace/executeCommand", "params": params}
    if kind == "bad_id":
        return "bad", {
            "jsonrpc": "2.0",
            "id": draw(st.floats(0.5, 9.5) | st.booleans() | st.just(None) | st.lists(st.integers(), max_size=1)),
            "method": method,
        }
    method = draw(
        st.sampled_from(["textDocument/didChange", "textDocument/didOpen", "$/cancelRequest", "unknown/note"])
    )
    return "notification", {"jsonrpc": "2.0", "method": method, "params": draw(json_values)}


# (body, answered with an error whose id is null): notifications and messages with an id are not
malformed_bodies = st.sampled_from(
    [
        (b"{", True),
        (b"", True),
        (b"[]", True),
        (b"null", True),
        (b"42", True),
        (b'{"jsonrpc": "2.0"', True),
        (b"\xff\xfe{}", True),
        (b'{"jsonrpc": "1.0", "method": "x"}', False),
        (b'{"id": "orphan"}', False),
    ]
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    raw = RawServer(scripted_env(tmp, default_reply="ok()"), stderr_path=tmp / "stderr.log")
    raw.initialize({"textDocument": {"inlineCompletion": {}}})
    raw.notify(
        "textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": "x = 1\n"}}
    )
    yield raw
    raw.close()
    # the figures the README quotes (pytest -s shows them)
    print(f"\nfuzzed {FUZZED['messages']} messages with {FUZZED['requests']} requests: each answered exactly once")


FUZZED = {"messages": 0, "requests": 0}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batch=st.lists(
        requests() | malformed_bodies.map(lambda m: ("malformed" if m[1] else "ignored", m[0])), min_size=1, max_size=12
    )
)
@pytest.mark.slow
def test_every_request_is_answered_exactly_once(server, batch):
    nulls_before = len(server.null_id_errors())
    expect_null = 0
    request_ids = []
    for kind, message in batch:
        server.send(message)
        if kind == "request":
            request_ids.append(message["id"])
        elif kind in ("bad", "malformed"):
            expect_null += 1
    sentinel = server.request("workspace/executeCommand", {"command": "qwen.serverStatus"})
    server.wait_answers([*request_ids, sentinel])
    time.sleep(0.05)  # a duplicate answer would come right after the first
    FUZZED["messages"] += len(batch) + 1
    FUZZED["requests"] += len(request_ids) + 1
    assert server.stray is None, f"stray bytes on stdout: {server.stray!r}"
    assert server.alive
    missing = [i for i in request_ids if not server.answers.get(i)]
    assert not missing, f"unanswered: {[m for k, m in batch if k == 'request' and m['id'] in missing]}"
    assert all(len(server.answers[i]) == 1 for i in [*request_ids, sentinel])
    assert "result" in server.answers[sentinel][0]
    for i in request_ids:
        answer = server.answers[i][0]
        assert "result" in answer or answer["error"]["code"] in (-32600, -32601, -32602, -32603, -32800), answer
    assert len(server.null_id_errors()) - nulls_before == expect_null


def test_out_of_range_positions_get_a_clear_error_or_an_empty_result(server):
    for line, character, expected in [
        (-1, 0, -32602),
        (0, -5, -32602),
        (2**31, 0, -32602),
        (0, 2**31, -32602),
        (2**31 - 1, 0, None),
        (40, 0, None),
        (0, 10**6, "ok()"),
    ]:
        answer = server.call("textDocument/inlineCompletion", completion_params(line, character))
        if isinstance(expected, int):
            assert answer["error"]["code"] == expected and "position" in answer["error"]["message"]
        elif expected is None:
            assert answer["result"] is None  # past the end of the document: nothing to complete
        else:  # a character past the end of its line means the end of the line
            assert answer["result"]["items"][0]["insertText"] == expected


@pytest.mark.slow
def test_lifecycle_errors_and_exit_codes(tmp_path):
    server = RawServer(scripted_env(tmp_path, default_reply="ok()"), stderr_path=tmp_path / "stderr.log")
    try:
        before = server.call(
            "textDocument/completion", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}
        )
        assert before["error"]["code"] == -32002  # and not an AttributeError from the handler
        server.notify(
            "textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": ""}}
        )
        assert "capabilities" in server.initialize()["result"]
        assert (
            server.call("initialize", {"processId": None, "rootUri": None, "capabilities": {}})["error"]["code"]
            == -32600
        )
        assert server.call("shutdown")["result"] is None
        for method, params in [
            ("textDocument/completion", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}}),
            ("initialize", {"processId": None, "rootUri": None, "capabilities": {}}),
            ("shutdown", None),
            ("no/such/method", {}),
        ]:
            assert server.call(method, params)["error"]["code"] == -32600
        assert server.stray is None
        assert server.exit() == 0
    finally:
        server.close()
    for initialize in (True, False):  # exit without shutdown: code 1, initialized or not
        server = RawServer(scripted_env(tmp_path), stderr_path=tmp_path / "stderr2.log")
        if initialize:
            server.initialize()
        assert server.exit() == 1
