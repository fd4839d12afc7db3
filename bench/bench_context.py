"""Benchmark of the repository context engine on real code from package registries.

Corpora: Django (PyPI wheel, ~900 Python files), RxJS (npm, TypeScript sources), and a ~5k-file mix (Django,
SymPy, SQLAlchemy, pandas, NetworkX, RxJS). Per corpus, each phase runs in a fresh process so memory figures are
its own: cold index (empty cache), warm restart (persisted index, nothing changed), then requests: context
assembly at random positions (first request at a position, and the next keystroke), and the incremental update
after a keystroke in a ~5k-line file. Prints a table and writes bench/results/context.json.

    python bench/bench_context.py [--corpus django rxjs mix5k] [--requests 300] [--workdir /tmp/qwen-lsp-bench]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from qwen_lsp.context.evaluation.run import percentile

RESULTS = Path(__file__).resolve().parent / "results" / "context.json"
CORPORA = {
    "django": (["django"], []),
    "rxjs": ([], ["rxjs"]),
    "mix5k": (["django", "sympy", "sqlalchemy", "pandas", "networkx"], ["rxjs"]),
}
GOALS = {"cold_s": 30.0, "warm_s": 2.0, "rss_mb": 400.0, "gather_p95_ms": 10.0, "keystroke_p95_ms": 5.0}


# --- corpora ----------------------------------------------------------------------------------------------------


def fetch_pypi(name: str, into: Path) -> None:
    target = into / name
    if target.exists():
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, name],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)


def fetch_npm(name: str, into: Path) -> None:
    target = into / name
    if target.exists():
        return
    if shutil.which("npm") is None:
        print(f"npm not found: skipping {name}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", name, "--pack-destination", tmp, "--silent"], check=True, stdout=subprocess.DEVNULL
        )
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as archive:
            archive.extractall(target, filter="data")


def corpus_folder(corpus: str, workdir: Path) -> Path:
    packages, npm_packages = CORPORA[corpus]
    downloads = workdir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for name in packages:
        fetch_pypi(name, downloads)
    for name in npm_packages:
        fetch_npm(name, downloads)
    folder = workdir / "corpora" / corpus
    if not folder.exists():
        folder.mkdir(parents=True)
        for name in packages + npm_packages:
            if (downloads / name).exists():  # a copy: the index does not follow folder symlinks
                shutil.copytree(downloads / name, folder / name)
    return folder


# --- phases (each in its own process) ----------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _start(folder: Path, cache: Path):
    from qwen_lsp.context.repository import RepositoryContext

    engine = RepositoryContext(cache_dir=cache)
    started = time.perf_counter()
    engine.start([folder])
    return engine, time.perf_counter() - started


def phase_index(folder: Path, cache: Path) -> dict:
    engine, seconds = _start(folder, cache)
    stats = next(iter(engine.scan_stats().values()))
    result = {
        "seconds": round(seconds, 3),
        "files": stats.total,
        "parsed": stats.parsed,
        "loaded": stats.loaded,
        "lines": sum(r.line_count for r in engine.index.files.values()),
        "definitions": sum(len(r.definitions) for r in engine.index.files.values()),
        "chunks": engine.index.window_count(),
        "rss_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "cpu_s": round(time.process_time(), 2),
        "load_avg": os.getloadavg()[0],
    }
    engine.stop()
    return result


def _files(engine) -> list:
    return sorted((r for r in engine.index.files.values() if r.line_count > 40), key=lambda r: r.key)


def phase_requests(folder: Path, cache: Path, requests: int, seed: int) -> dict:
    from qwen_lsp.context.base import ContextRequest
    from qwen_lsp.context.syntax.languages import language_named

    engine, _ = _start(folder, cache)
    rng = random.Random(seed)
    files = _files(engine)
    first_ms: list[float] = []
    next_ms: list[float] = []
    first_cpu_ms: list[float] = []  # CPU time of the calling thread: what the wall time would be on an idle machine
    next_cpu_ms: list[float] = []
    snippet_counts: list[int] = []
    per_source: dict[str, list[float]] = {}
    for _ in range(requests):
        record = rng.choice(files)
        text = Path(record.key).read_text(encoding="utf-8")
        lines = text.split("\n")
        line = rng.randrange(10, len(lines) - 1)
        offset = sum(len(x) + 1 for x in lines[:line]) + len(lines[line])
        uri = Path(record.key).as_uri()
        language_id = language_named(record.language).lsp_ids[0]
        engine.document_changed(uri, text, 1, language_id)
        engine.wait_idle()

        def request(body: str, cursor: int) -> ContextRequest:
            first_line = max(0, line - 80)
            prefix_start = sum(len(x) + 1 for x in lines[:first_line])
            suffix_end = min(len(body), cursor + sum(len(x) + 1 for x in lines[line + 1 : line + 30]))
            return ContextRequest(
                uri,
                record.rel,
                language_id,
                body,
                cursor,
                line,
                len(lines[line]),
                1024,
                lambda s: len(s) // 4 + 1,
                prefix_start,
                suffix_end,
            )

        cpu = time.thread_time()
        result = engine.gather(request(text, offset))
        first_cpu_ms.append((time.thread_time() - cpu) * 1000)
        first_ms.append(result.timings_ms["total"])
        snippet_counts.append(len(result.snippets))
        for name, value in result.timings_ms.items():
            per_source.setdefault(name, []).append(value)
        typed = text[:offset] + "x" + text[offset:]
        engine.document_changed(uri, typed, 2, language_id)
        cpu = time.thread_time()
        next_ms.append(engine.gather(request(typed, offset + 1)).timings_ms["total"])
        next_cpu_ms.append((time.thread_time() - cpu) * 1000)
        engine.document_closed(uri)
    engine.wait_idle()
    result = {
        "requests": requests,
        "gather_first_p50_ms": round(percentile(first_ms, 50), 2),
        "gather_first_p95_ms": round(percentile(first_ms, 95), 2),
        "gather_next_p50_ms": round(percentile(next_ms, 50), 2),
        "gather_next_p95_ms": round(percentile(next_ms, 95), 2),
        "gather_max_ms": round(max(first_ms + next_ms), 2),
        "gather_first_cpu_p50_ms": round(percentile(first_cpu_ms, 50), 2),
        "gather_first_cpu_p95_ms": round(percentile(first_cpu_ms, 95), 2),
        "gather_next_cpu_p50_ms": round(percentile(next_cpu_ms, 50), 2),
        "gather_next_cpu_p95_ms": round(percentile(next_cpu_ms, 95), 2),
        "snippets_mean": round(sum(snippet_counts) / max(1, len(snippet_counts)), 2),
        "per_source_p95_ms": {k: round(percentile(v, 95), 3) for k, v in sorted(per_source.items())},
        "keystroke": keystrokes(engine, files, rng),
        "rss_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load_avg": os.getloadavg()[0],
    }
    engine.stop()
    return result


def keystrokes(engine, files: list, rng: random.Random, count: int = 200) -> dict:
    """Typing in the file closest to (and above) 5k lines: time of ``document_changed`` per keystroke."""
    from qwen_lsp.context.syntax.languages import language_named

    big = [r for r in files if r.line_count >= 5000] or sorted(files, key=lambda r: -r.line_count)[:1]
    record = min(big, key=lambda r: r.line_count)
    text = Path(record.key).read_text(encoding="utf-8")
    uri = Path(record.key).as_uri()
    language_id = language_named(record.language).lsp_ids[0]
    engine.document_changed(uri, text, 0, language_id)
    engine.wait_idle()
    lines = text.split("\n")
    # type a new statement inside a block in the middle of the file, one character at a time
    middle = range(len(lines) // 4, 3 * len(lines) // 4)
    inside = [
        i
        for i in middle
        if lines[i].strip()
        and lines[i].startswith((" ", "\t"))
        and lines[i + 1][: len(lines[i]) - len(lines[i].lstrip())] == lines[i][: len(lines[i]) - len(lines[i].lstrip())]
    ]
    line = rng.choice(inside or list(middle))
    indent = lines[line][: len(lines[line]) - len(lines[line].lstrip())]
    offset = sum(len(x) + 1 for x in lines[:line]) + len(lines[line])
    typed = "\n" + indent + "result = compute(value, 1)"
    times: list[float] = []
    cpu_times: list[float] = []
    shape_times: list[float] = []
    for i in range(count):
        char = typed[i % len(typed)]
        text = text[:offset] + char + text[offset:]
        offset += 1
        started, cpu = time.perf_counter(), time.thread_time()
        engine.document_changed(uri, text, i + 1, language_id)
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.thread_time() - cpu) * 1000)
        started = time.perf_counter()
        engine.completion_shape(uri, text, offset, language_id)  # includes the (lazy) incremental re-parse
        shape_times.append((time.perf_counter() - started) * 1000)
    engine.document_closed(uri)
    return {
        "file": record.rel,
        "lines": len(lines),
        "p50_ms": round(percentile(times, 50), 3),
        "p95_ms": round(percentile(times, 95), 3),
        "cpu_p95_ms": round(percentile(cpu_times, 95), 3),
        "shape_p95_ms": round(percentile(shape_times, 95), 3),
    }


# --- driver -------------------------------------------------------------------------------------------------------


def run_phase(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, "--phase", *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_corpus(corpus: str, workdir: Path, requests: int, seed: int) -> dict:
    folder = corpus_folder(corpus, workdir)
    cache = workdir / "cache" / corpus
    shutil.rmtree(cache, ignore_errors=True)
    cold = run_phase(["index", str(folder), str(cache)])
    warm = run_phase(["index", str(folder), str(cache)])
    served = run_phase(["requests", str(folder), str(cache), str(requests), str(seed)])
    return {"corpus": corpus, "cold": cold, "warm": warm, "requests": served}


def print_table(results: list[dict]) -> None:
    # fmt: off
    header = ("corpus", "files (lines)", "cold s", "warm s", "RSS MB", "gather p50/p95 ms (CPU)", "next key p50/p95 ms (CPU)",
              "keystroke p95 ms (lines)", "load avg")
    # fmt: on
    rows = []
    for r in results:
        q, k = r["requests"], r["requests"]["keystroke"]
        rows.append(
            (
                r["corpus"],
                f"{r['cold']['files']} ({r['cold']['lines'] // 1000}k)",
                f"{r['cold']['seconds']:.1f}",
                f"{r['warm']['seconds']:.2f}",
                f"{max(r['cold']['peak_rss_mb'], q['peak_rss_mb']):.0f}",
                f"{q['gather_first_p50_ms']:.1f} / {q['gather_first_p95_ms']:.1f} "
                f"({q['gather_first_cpu_p50_ms']:.1f} / {q['gather_first_cpu_p95_ms']:.1f})",
                f"{q['gather_next_p50_ms']:.1f} / {q['gather_next_p95_ms']:.1f} "
                f"({q['gather_next_cpu_p50_ms']:.1f} / {q['gather_next_cpu_p95_ms']:.1f})",
                f"{k['p95_ms']:.2f} ({k['lines']})",
                f"{q['load_avg']:.1f}",
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    for row in (header, *rows):
        print(" | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--phase":
        phase, folder, cache, *rest = sys.argv[2:]
        if phase == "index":
            print(json.dumps(phase_index(Path(folder), Path(cache))))
        else:
            print(json.dumps(phase_requests(Path(folder), Path(cache), int(rest[0]), int(rest[1]))))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", choices=sorted(CORPORA), default=["django", "rxjs", "mix5k"])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qwen-lsp-bench")
    args = parser.parse_args()
    results = [bench_corpus(corpus, args.workdir, args.requests, args.seed) for corpus in args.corpus]
    print_table(results)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": machine(), "goals": GOALS, "results": results}, indent=2) + "\n")
    print(f"wrote {RESULTS}")


def machine() -> dict:
    import platform

    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_avg_at_end": os.getloadavg(),
    }


if __name__ == "__main__":
    main()
