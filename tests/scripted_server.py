"""Run the real server over stdio with a scripted backend (for pipeline-logic tests only).

The script comes from the environment variable QWEN_LSP_TEST_SCRIPT as JSON:
{"replies": [...], "default_reply": "...", "delay_s": 0.0, "chunk_size": 4}
"""

import json
import os

from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.server.app import create_server
from qwen_lsp.server.lsp_logging import setup_logging


def main() -> None:
    script = json.loads(os.environ.get("QWEN_LSP_TEST_SCRIPT", "{}"))
    backend = ScriptedBackend(
        replies=script.get("replies"),
        default_reply=script.get("default_reply", ""),
        delay_s=script.get("delay_s", 0.0),
        chunk_size=script.get("chunk_size", 4),
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
        }

    server.start_io()


if __name__ == "__main__":
    main()
