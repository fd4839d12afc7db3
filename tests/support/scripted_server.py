"""Run the real server over stdio with a scripted backend (for pipeline-logic tests only).

The script comes from the environment variable QWEN_LSP_TEST_SCRIPT as JSON:
{"replies": [...], "default_reply": "...", "delay_s": 0.0, "chunk_size": 4, "background_replies": [...],
 "chat_replies": [{"content": "...", "tool_calls": [{"name": "...", "arguments": {...} or "raw text"}],
                   "finish_reason": "stop" | "length" | ...}]}
Test-only commands (never in the real server): test.backendCounters, test.document.
"""

import json
import os
import sys

from qwen_lsp.clients.base import ChatReply, ToolCall
from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.server.app import create_server
from qwen_lsp.server.lsp_logging import setup_logging


def chat_reply(spec: dict) -> ChatReply:
    calls = []
    for i, c in enumerate(spec.get("tool_calls", [])):
        arguments = c["arguments"] if isinstance(c.get("arguments"), str) else json.dumps(c.get("arguments", {}))
        calls.append(ToolCall(id=c.get("id", f"call_{i}"), name=c["name"], arguments=arguments))
    finish = spec.get("finish_reason") or ("tool_calls" if calls else "stop")
    return ChatReply(content=spec.get("content", ""), tool_calls=calls, finish_reason=finish)


def main() -> None:
    script = json.loads(os.environ.get("QWEN_LSP_TEST_SCRIPT", "{}"))
    backend = ScriptedBackend(
        replies=script.get("replies"),
        default_reply=script.get("default_reply", ""),
        delay_s=script.get("delay_s", 0.0),
        chunk_size=script.get("chunk_size", 4),
        chat_replies=[chat_reply(r) for r in script.get("chat_replies", [])],
        background_replies=script.get("background_replies"),
    )
    setup_logging("debug")
    server = create_server(lambda settings: backend)

    @server.command("test.backendCounters")
    def counters(ls, *args):
        return {
            "calls_started": backend.calls_started,
            "calls_cancelled": backend.calls_cancelled,
            "prompts": [p.text for p in backend.prompts],
            "inflight_started": ls.inflight.started,
            "inflight_superseded": ls.inflight.superseded,
            "chat_requests": backend.chat_requests,
            "chat_replies_left": len(backend.chat_replies),
            "background_prompts": [p.text for p in backend.background_calls],
            "prefill_prompts": [p.text for p in backend.prefills],
        }

    @server.command("test.document")
    def document(ls, *args):
        """The server's copy of a document and, for a position, its offset (what completion would use)."""
        from lsprotocol import types

        from qwen_lsp.server.documents import DocumentError, snapshot

        uri, position = args[0]["uri"], args[0].get("position")
        doc = ls.workspace.text_documents[uri]
        answer = {"text": doc.source, "version": doc.version}
        if position is not None:
            try:
                answer["offset"] = snapshot(ls.workspace, uri, types.Position(**position)).offset
            except DocumentError as error:
                answer["error"] = str(error)
        return answer

    sys.exit(server.start_io())


if __name__ == "__main__":
    main()
