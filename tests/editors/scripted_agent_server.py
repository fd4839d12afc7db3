"""The real qwen-lsp server over stdio with a scripted backend whose chat replies drive the agent (tool calls).

For the editor tests of the agent review flow: the edit the agent proposes is fixed, so the test can assert it.
QWEN_LSP_TEST_SCRIPT (JSON): {"replies": [...FIM texts], "chat": [[{"name": "edit_file", "arguments": {...}}], ...]}
"""

import json
import os

from qwen_lsp.clients.base import ChatReply, ToolCall
from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.server.app import create_server


def main() -> None:
    script = json.loads(os.environ.get("QWEN_LSP_TEST_SCRIPT", "{}"))
    chat = [
        ChatReply(
            content="",
            tool_calls=[
                ToolCall(id=f"call{i}{j}", name=call["name"], arguments=json.dumps(call["arguments"]))
                for j, call in enumerate(calls)
            ],
            finish_reason="tool_calls",
        )
        for i, calls in enumerate(script.get("chat", []))
    ]
    backend = ScriptedBackend(replies=script.get("replies"), chat_replies=chat)
    create_server(lambda settings: backend).start_io()


if __name__ == "__main__":
    main()
