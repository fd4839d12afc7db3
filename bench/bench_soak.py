"""Soak: RSS and latency of the real server over many requests (a long day of typing), scripted backend.

Each step types one character (``didChange``; the line is cleared every 40 characters so the document keeps its
size) and asks for an inline completion; every fifth step a second request supersedes the first, which is also
cancelled with ``$/cancelRequest``. The server's RSS is sampled every 1,000 requests; growth is measured after a
warm-up. The server runs from this file (``--serve``) with ``clients/scripted.py``'s backend, plus a
``bench.internals`` command reporting the sizes of the protocol's bookkeeping.

    .venv/bin/python bench/bench_soak.py [--requests 50000] [--warmup 5000] [--out soak.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, ROOT, Report, show_and_write

URI = "file:///soak/app.py"
PREFIX = "def handler(request):\n    value = "


def serve() -> None:
    from qwen_lsp.clients.scripted import ScriptedBackend
    from qwen_lsp.server.app import create_server
    from qwen_lsp.server.lsp_logging import setup_logging

    setup_logging("warning")
    backend = ScriptedBackend(default_reply="compute(request)\n", delay_s=0.001)
    server = create_server(lambda settings: backend)

    @server.command("bench.internals")
    def internals(ls, *args):
        protocol = ls.protocol
        return {
            "request_futures": len(protocol._request_futures),
            "result_types": len(protocol._result_types),
            "inflight_documents": len(ls.inflight._by_document),
            "gc_objects": len(gc.get_objects()),
            "prompts_kept_by_scripted_backend": len(backend.prompts),
        }

    backend.prompts = _Discard()  # the scripted backend records prompts for tests; a soak must not keep them
    sys.exit(server.start_io())


class _Discard(list):
    def append(self, item) -> None:
        pass


class Client:
    """Raw stdio client: frames out, frames in, answers by id."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.answers: dict = {}
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        self._next = 0

    def _read(self) -> None:
        stream = self.process.stdout
        while True:
            length = None
            while (line := stream.readline()) not in (b"\r\n", b""):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if line == b"" or length is None:
                return
            message = json.loads(stream.read(length))
            if "id" in message and "method" not in message:
                with self._cond:
                    self.answers[message["id"]] = (time.perf_counter(), message)
                    self._cond.notify_all()

    def send(self, message: dict) -> None:
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.process.stdin.flush()

    def request(self, method: str, params: dict) -> int:
        self._next += 1
        self.send({"jsonrpc": "2.0", "id": self._next, "method": method, "params": params})
        return self._next

    def notify(self, method: str, params: dict) -> None:
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def wait(self, ids: list[int], timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not all(i in self.answers for i in ids):
                if not self._cond.wait(max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"no answer to {[i for i in ids if i not in self.answers]}")
            return {i: self.answers.pop(i) for i in ids}

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0


def initialized_client(data_prefix: str) -> Client:
    """A server of its own (fresh data folder, no debounce: every keystroke asks for a completion), initialized."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env.update(
        QWEN_LSP_DATA_DIR=tempfile.mkdtemp(prefix=data_prefix),
        QWEN_LSP_COMPLETION__DEBOUNCE_MS="0",
        PYTHONPATH=str(ROOT),
    )
    client = Client(env)
    client.wait(
        [
            client.request(
                "initialize",
                {"processId": None, "rootUri": None, "capabilities": {"textDocument": {"inlineCompletion": {}}}},
            )
        ]
    )
    client.notify("initialized", {})
    return client


def run(requests: int, warmup: int) -> Report:
    load_at_start = os.getloadavg()
    client = initialized_client("soak-")
    client.notify(
        "textDocument/didOpen",
        {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": PREFIX + "\n"}},
    )
    version, typed, sent = 1, 0, 0
    latencies: list[float] = []
    samples: list[tuple[int, float]] = [(0, client.rss_mb())]
    errors = cancelled = 0
    started = time.perf_counter()
    while sent < requests:
        version += 1
        if typed == 40:  # clear the typed text: constant-size document
            change = {"range": {"start": {"line": 1, "character": 12}, "end": {"line": 1, "character": 52}}, "text": ""}
            typed = 0
        else:
            at = {"line": 1, "character": 12 + typed}
            change = {"range": {"start": at, "end": at}, "text": "abcdefghij"[typed % 10]}
            typed += 1
        client.notify(
            "textDocument/didChange", {"textDocument": {"uri": URI, "version": version}, "contentChanges": [change]}
        )
        params = {
            "textDocument": {"uri": URI},
            "position": {"line": 1, "character": 12 + typed},
            "context": {"triggerKind": 2},
        }
        ids, t0 = [client.request("textDocument/inlineCompletion", params)], time.perf_counter()
        if sent % 5 == 4:  # supersede and cancel
            ids.append(client.request("textDocument/inlineCompletion", params))
            client.notify("$/cancelRequest", {"id": ids[0]})
        for answered_at, message in client.wait(ids).values():
            latencies.append((answered_at - t0) * 1000)
            if "error" in message:
                cancelled += message["error"]["code"] == -32800
                errors += message["error"]["code"] != -32800
        sent += len(ids)
        if sent // 1000 != (sent - len(ids)) // 1000:
            samples.append((sent, client.rss_mb()))
    elapsed = time.perf_counter() - started
    internals = client.wait([client.request("workspace/executeCommand", {"command": "bench.internals"})])
    internals = next(iter(internals.values()))[1].get("result", {})
    client.wait([client.request("shutdown", {})])
    client.notify("exit", {})
    exit_code = client.process.wait(timeout=30)

    warm = next((rss for count, rss in samples if count >= warmup), samples[-1][1])
    final = samples[-1][1]
    after_warmup = max(1, samples[-1][0] - warmup)
    report = Report("soak")
    report.meta = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": _commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load_at_start,
        "requests": requests,
        "warmup": warmup,
    }
    report.add("requests", sent, note=f"{cancelled} cancelled, {errors} other errors")
    report.add("throughput", sent / elapsed, "req/s")
    report.add("latency p50", statistics.median(latencies), "ms")
    report.add("latency p99", statistics.quantiles(latencies, n=100)[98], "ms")
    report.add("RSS after warm-up", warm, "MB", note=f"at {warmup:,} requests")
    report.add("RSS at the end", final, "MB")
    growth = final - warm
    report.add(
        "RSS growth after warm-up",
        growth,
        "MB",
        goal="<= 5 MB over 50,000 requests",
        met=growth <= 5,
        note=f"over {after_warmup:,} requests",
    )
    report.add("pending futures at the end", internals.get("request_futures", -1), note="pygls _request_futures")
    report.add("exit code after shutdown+exit", exit_code)
    report.details = {"rss_samples": samples, "internals": internals}
    return report


def _commit() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--warmup", type=int, default=5_000)
    parser.add_argument("--out", default="soak.json", help=f"file name under {RESULTS}")
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    show_and_write(run(args.requests, args.warmup), args.out)


if __name__ == "__main__":
    main()
