"""Large documents: the cost of opening, typing into and completing in a 20 MB file and a file with one 1 MB line.

The real server over stdio with the scripted backend (``bench_soak.py --serve``). Each figure is the wall time
until the server answers a ``qwen.serverStatus`` sent after the messages (so it includes all their work).

    .venv/bin/python bench/bench_large_documents.py [--keystrokes 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_soak import Client, _commit, initialized_client
from common import Report, show_and_write

DOCUMENTS = {
    "20 MB, 500,000 lines": "value = compute(item, 42)  # a comment\n" * 500_000,
    "one 1 MB line": "x = 'abc' + " * 85_000 + "\n",
}


def timed(client: Client, send) -> float:
    started = time.perf_counter()
    send()
    client.wait([client.request("workspace/executeCommand", {"command": "qwen.serverStatus"})], timeout=600)
    return time.perf_counter() - started


def run(keystrokes: int) -> Report:
    load_at_start = os.getloadavg()
    client = initialized_client("large-")
    report = Report("large_documents")
    for number, (name, text) in enumerate(DOCUMENTS.items()):
        uri = f"file:///large/doc{number}.py"
        opened = timed(
            client,
            lambda: client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
            ),
        )

        def type_keys() -> None:
            for version in range(2, keystrokes + 2):
                at = {"line": 0, "character": 8 + version}
                client.notify(
                    "textDocument/didChange",
                    {
                        "textDocument": {"uri": uri, "version": version},
                        "contentChanges": [{"range": {"start": at, "end": at}, "text": "k"}],
                    },
                )

        typed = timed(client, type_keys)
        completed = timed(
            client,
            lambda: client.wait(
                [
                    client.request(
                        "textDocument/inlineCompletion",
                        {
                            "textDocument": {"uri": uri},
                            "position": {"line": 0, "character": 10},
                            "context": {"triggerKind": 2},
                        },
                    )
                ],
                600,
            ),
        )
        report.add(f"{name}: open", opened * 1000, "ms")
        report.add(
            f"{name}: {keystrokes} keystrokes", typed * 1000, "ms", note=f"{typed * 1000 / keystrokes:.1f} ms each"
        )
        report.add(f"{name}: one completion", completed * 1000, "ms")
    client.wait([client.request("shutdown", {})])
    client.notify("exit", {})
    client.process.wait(timeout=60)
    report.meta = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": _commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_at_start,
        "keystrokes": keystrokes,
    }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keystrokes", type=int, default=20)
    parser.add_argument("--out", default="large_documents.json", help="file name under bench/results/")
    args = parser.parse_args()
    show_and_write(run(args.keystrokes), args.out)


if __name__ == "__main__":
    main()
