"""pygls keeps a future per incoming message in ``_request_futures`` and removes only those of answered requests:
every didOpen/didChange left one behind (12,005 after 15,000 requests: memory that grew with each keystroke).
Counted on the real server object, fed frames as its reader would."""

from __future__ import annotations

import asyncio
import json

from qwen_lsp.server.app import create_server

URI = "file:///work/notes/app.py"


async def test_no_future_is_kept_for_notifications_or_answered_requests(monkeypatch) -> None:
    monkeypatch.setenv("QWEN_LSP_BACKEND__KIND", "remote")
    monkeypatch.setenv("QWEN_LSP_BACKEND__REMOTE__BASE_URL", "http://127.0.0.1:9/v1")  # refused: answered at once
    server = create_server()
    protocol = server.protocol
    sent: list = []  # what the server writes: pygls message objects, or dicts for errors
    monkeypatch.setattr(protocol, "_send_data", sent.append)

    def answered() -> set:
        as_dicts = [m if isinstance(m, dict) else protocol._converter.unstructure(m) for m in sent]
        return {m.get("id") for m in as_dicts if "method" not in m}

    def receive(message: dict) -> None:
        protocol.receive(json.dumps({"jsonrpc": "2.0", **message}).encode())

    receive({"id": 0, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}})
    receive({"method": "initialized", "params": {}})
    document = {"uri": URI, "languageId": "python", "version": 1, "text": "total = 1\n"}
    receive({"method": "textDocument/didOpen", "params": {"textDocument": document}})
    for version in range(2, 202):
        change = {"range": {"start": {"line": 0, "character": 9}, "end": {"line": 0, "character": 9}}, "text": "1"}
        params = {"textDocument": {"uri": URI, "version": version}, "contentChanges": [change]}
        receive({"method": "textDocument/didChange", "params": params})
    for request_id in range(1, 11):
        position = {"line": 0, "character": 9}
        params = {"textDocument": {"uri": URI}, "position": position, "context": {"triggerKind": 1}}
        receive({"id": request_id, "method": "textDocument/inlineCompletion", "params": params})
    for _ in range(200):  # until every request is answered
        await asyncio.sleep(0.05)
        if answered() >= set(range(11)):
            break
    await asyncio.sleep(0.2)  # futures are forgotten on the loop, just after they finish
    assert answered() >= set(range(11)), sent
    assert len(protocol._request_futures) == 0, len(protocol._request_futures)  # before: one per notification (203)
