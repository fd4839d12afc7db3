"""Faults injected and survived: the real ``qwen-lsp`` over stdio against a fault-injecting OpenAI-compatible server
(tests/reliability/fault_endpoint.py), and the index's recovery and exit paths.

For each endpoint fault: the slowest answer to 10 completion requests, the messages shown to the user, and the
time until a completion comes through once the endpoint is well again. For the index: a damaged database
rebuilt, unsealed blobs rejected, an exit during a first index of 5,000 files, a 2,000-deep .gitignore chain.

    .venv/bin/python bench/bench_faults.py      # ~5 minutes; writes bench/results/faults.json
"""

from __future__ import annotations

import asyncio
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, Report, show_and_write

sys.path[:0] = [str(ROOT / "tests" / "support"), str(ROOT / "tests" / "reliability")]

from fault_endpoint import FaultEndpoint  # noqa: E402
from lsprotocol import types  # noqa: E402
from server_process import seconds_to_exit_while_indexing  # noqa: E402
from workspaces import damage_pages, write_chain, write_filler  # noqa: E402

from lsp_helpers import first_text, inline_completion, open_document, running_server, server_env  # noqa: E402
from ports import free_port  # noqa: E402

QWEN_LSP = [str(Path(sys.executable).parent / "qwen-lsp")]
URI = "file:///work/demo/app.py"
REQUESTS = 10
MAX_SECONDS = 3.0
FAULTS = [  # (name, endpoint mode, SDK retries)
    ("connection refused", "refused", 0),
    ("never answers", "never", 0),
    ("hangs mid-stream", "hang", 0),
    ("429, Retry-After 60, no retries", "http429", 0),
    ("429, Retry-After 60, 2 retries", "http429", 2),
    ("500", "http500", 0),
    ("500/ok alternating", "flap", 0),
    ("truncated SSE", "truncated", 0),
    ("invalid JSON stream", "bad_json", 0),
    ("/models not JSON", "bad_models", 0),
    ("trickle 0.5 s/token", "trickle", 0),
    ("100 tokens past max_tokens", "flood", 0),
]


async def endpoint_fault(tmp: Path, mode: str, retries: int) -> dict:
    text = "".join(f"value_{i} = \n" for i in range(REQUESTS + 30))
    with FaultEndpoint(mode) as endpoint:
        base_url = f"http://127.0.0.1:{free_port()}/v1" if mode == "refused" else endpoint.base_url
        env = server_env(
            tmp,
            QWEN_LSP_BACKEND__KIND="remote",
            QWEN_LSP_BACKEND__REMOTE__BASE_URL=base_url,
            QWEN_LSP_BACKEND__REMOTE__API_KEY_ENV="QWEN_LSP_UNSET_KEY",
            QWEN_LSP_BACKEND__REMOTE__MAX_RETRIES=str(retries),
            QWEN_LSP_COMPLETION__DEBOUNCE_MS="0",
            QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE="8",
            QWEN_LSP_COMPLETION__MAX_SECONDS=str(MAX_SECONDS),
        )
        async with running_server(QWEN_LSP, env) as client:
            await open_document(client, URI, text)
            latencies, shown = [], []
            for line in range(REQUESTS):
                started = time.perf_counter()
                result = await inline_completion(client, URI, line, len(f"value_{line} = "))
                latencies.append(time.perf_counter() - started)
                shown.append(first_text(result))
            messages = [m.message for m in client.messages if m.type == types.MessageType.Error]
            endpoint.mode = "ok"
            endpoint.released.set()  # requests left hanging end (their connections close)
            if mode == "refused":  # the endpoint comes up where the server has been trying
                return {"max_s": max(latencies), "messages": len(messages), "shown": shown, "recovery_s": None}
            started = time.perf_counter()
            line = REQUESTS
            recovery: float | None = None
            while line < REQUESTS + 30:
                if first_text(await inline_completion(client, URI, line, len(f"value_{line} = "))) is not None:
                    recovery = time.perf_counter() - started
                    break
                line += 1
    return {
        "max_s": max(latencies),
        "messages": len(messages),
        "message": messages[:1],
        "shown": shown,
        "recovery_s": recovery,
        "requests_received": len(endpoint.requests),
    }


def damaged_index(tmp: Path) -> dict:
    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.context.settings import ContextOptions

    root = tmp / "damaged"
    root.mkdir()
    write_filler(root, 2000, functions=5)
    cache = tmp / "damaged-cache"
    options = ContextOptions(index_processes=0)
    engine = RepositoryContext(options, cache_dir=cache)
    started = time.perf_counter()
    engine.start([root])
    first = time.perf_counter() - started
    engine.stop()
    database = next((cache / "index").glob("*.sqlite"))
    damage_pages(database)
    problems: list[str] = []
    engine = RepositoryContext(options, cache_dir=cache, on_problem=problems.append)
    started = time.perf_counter()
    engine.start([root])
    rebuilt = time.perf_counter() - started
    files = len(engine.index.files)
    engine.stop()
    engine = RepositoryContext(options, cache_dir=cache)
    started = time.perf_counter()
    engine.start([root])
    warm = time.perf_counter() - started
    engine.stop()
    with sqlite3.connect(database) as db:  # what every start now pays to find damage
        started = time.perf_counter()
        db.execute("PRAGMA quick_check(1)").fetchone()
        quick_check_ms = (time.perf_counter() - started) * 1000
    return {
        "files": files,
        "first_index_s": first,
        "rebuild_s": rebuilt,
        "messages": len(problems),
        "warm_after_s": warm,
        "database_mb": database.stat().st_size / 1e6,
        "quick_check_ms": quick_check_ms,
    }


def deep_gitignore_chain(tmp: Path, depth: int = 2000) -> dict:
    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.context.settings import ContextOptions

    root = tmp / "chain"
    folder = write_chain(root, depth)
    engine = RepositoryContext(ContextOptions(index_processes=0), cache_dir=tmp / "chain-cache")
    started = time.perf_counter()
    engine.start([root])
    scan = time.perf_counter() - started
    started = time.perf_counter()
    engine.files_changed([folder / f"f{i}.py" for i in range(20)]).result()
    events = time.perf_counter() - started
    files = len(engine.index.files)
    engine.stop()
    subprocess.run(["rm", "-rf", str(root)], check=False)  # shutil.rmtree recurses once per level
    return {"depth": depth, "files": files, "scan_s": scan, "change_events_s": events}


def main() -> None:
    report = Report("faults")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    report.meta = {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": commit.strip(),
        "python": platform.python_version(),
        "completion.max_seconds": MAX_SECONDS,
        "requests_per_fault": REQUESTS,
    }
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-faults-") as tmp_name:
        tmp = Path(tmp_name)
        for name, mode, retries in FAULTS:
            result = asyncio.run(endpoint_fault(tmp, mode, retries))
            report.details[name] = result
            recovery = "" if result["recovery_s"] is None else f", well again in {result['recovery_s']:.2f} s"
            report.add(
                f"{name}: slowest of {REQUESTS} answers",
                round(result["max_s"], 2),
                "s",
                f"≤ {MAX_SECONDS:g} s + 1",
                result["max_s"] <= MAX_SECONDS + 1,
                f"{result['messages']} message(s){recovery}",
            )
        index = damaged_index(tmp)
        report.details["damaged index"] = index
        report.add(
            "damaged index database: rebuild",
            round(index["rebuild_s"], 2),
            "s",
            "",
            None,
            f"{index['files']} files, {index['messages']} message; first index {index['first_index_s']:.1f} s, "
            f"warm start after {index['warm_after_s']:.2f} s, quick_check {index['quick_check_ms']:.0f} ms "
            f"on {index['database_mb']:.1f} MB",
        )
        root = tmp / "big"
        root.mkdir()
        write_filler(root, 5000, functions=30)
        with FaultEndpoint("ok") as endpoint:
            for how in ("stdin closed", "shutdown and exit"):
                seconds = seconds_to_exit_while_indexing(root, tmp, endpoint.base_url, how, 120)
                report.details[f"exit during first index: {how}"] = seconds
                report.add(
                    f"exit during a first index of 5,000 files ({how})", round(seconds, 2), "s", "≤ 2 s", seconds <= 2
                )
        chain = deep_gitignore_chain(tmp)
        report.details["deep .gitignore chain"] = chain
        report.add(
            "2,000-deep .gitignore chain: scan + 20 change events",
            round(chain["scan_s"] + chain["change_events_s"], 2),
            "s",
            "",
            None,
            f"scan {chain['scan_s']:.2f} s, events {chain['change_events_s']:.2f} s, {chain['files']} files",
        )
    show_and_write(report, "faults.json")


if __name__ == "__main__":
    main()
