"""Context cost of two versions of the code, measured alternately in one session: ``bench_context.py`` of an older
source tree (``--before``: a ``git archive`` of a commit, imported through PYTHONPATH) and of this one, in turns
(before, after, before, after...), so both see the same machine load. Stores every run with its load average in
bench/results/context-cost.json and prints the medians side by side (CPU time is less noisy than wall time on a
shared machine).

    git archive <commit> | tar -x -C /tmp/before
    python bench/compare_context_cost.py --before /tmp/before [--rounds 2] [--corpus mix5k django] \\
        [--workdir /tmp/qwen-lsp-bench] [--description "..."]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "context-cost.json"
PACKAGES = ("server", "context", "clients")
FIGURES = (  # (label, phase, key)
    ("gather CPU p50 ms", "requests", "gather_first_cpu_p50_ms"),
    ("gather CPU p95 ms", "requests", "gather_first_cpu_p95_ms"),
    ("next key CPU p50 ms", "requests", "gather_next_cpu_p50_ms"),
    ("next key CPU p95 ms", "requests", "gather_next_cpu_p95_ms"),
    ("gather wall p95 ms", "requests", "gather_first_p95_ms"),
    ("next key wall p95 ms", "requests", "gather_next_p95_ms"),
    ("gather max ms", "requests", "gather_max_ms"),
    ("cold index s", "cold", "seconds"),
    ("warm restart s", "warm", "seconds"),
    ("peak RSS MB", "requests", "peak_rss_mb"),
)


def importable(tree: Path, into: Path) -> Path:
    """A folder that makes ``qwen_lsp.*`` import from ``tree`` when put on PYTHONPATH."""
    package = into / "qwen_lsp"
    package.mkdir(parents=True, exist_ok=True)
    for name in PACKAGES:
        link = package / name
        if not link.exists():
            link.symlink_to(tree / name)
    return into


def origin(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", "import qwen_lsp.context as c; print(c.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tempfile.gettempdir(),
    )
    return out.stdout.strip()


def run(tree: Path, env: dict[str, str], corpora: list[str], workdir: Path, requests: int) -> dict:
    script = tree / "bench" / "bench_context.py"
    command = [sys.executable, str(script), "--corpus", *corpora, "--workdir", str(workdir)]
    subprocess.run([*command, "--requests", str(requests)], env=env, check=True, cwd=tempfile.gettempdir())
    return json.loads((tree / "bench" / "results" / "context.json").read_text())


def figures(run_result: dict, corpus: str) -> dict[str, float]:
    found = next(r for r in run_result["results"] if r["corpus"] == corpus)
    return {label: found[phase][key] for label, phase, key in FIGURES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="source tree of the older code (with bench/)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--corpus", nargs="+", default=["mix5k", "django"])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "qwen-lsp-bench")
    parser.add_argument("--description", default="")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"where the runs are stored (default {RESULTS})")
    args = parser.parse_args()
    before_path = importable(args.before.resolve(), Path(tempfile.mkdtemp(prefix="context-cost-")))
    before_env = {**os.environ, "PYTHONPATH": str(before_path)}
    after_env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    trees = {"before": (args.before.resolve(), before_env), "after": (HERE.parent, after_env)}
    origins = {name: origin(env) for name, (_, env) in trees.items()}
    print(f"before imports {origins['before']}\nafter imports {origins['after']}", flush=True)
    if not origins["before"].startswith(str(before_path)):
        sys.exit("the older code is not the one imported")
    runs: list[dict] = []
    for round_number in range(args.rounds):
        for name, (tree, env) in trees.items():
            load = os.getloadavg()[0]
            result = run(tree, env, args.corpus, args.workdir, args.requests)
            runs.append({"code": name, "round": round_number + 1, "load_avg_at_start": load, "result": result})
            print(f"{name} round {round_number + 1} done (load average {load:.1f} at start)", flush=True)
    shown = {name: os.path.relpath(path, HERE.parent) if name == "after" else path for name, path in origins.items()}
    stored = {"description": args.description, "imported_from": shown, "runs": runs}
    args.results.write_text(json.dumps(stored, indent=2) + "\n")
    print_medians(runs, args.corpus)
    print(f"wrote {args.results}")


def print_medians(runs: list[dict], corpora: list[str]) -> None:
    for corpus in corpora:
        print(f"\n{corpus}: medians of {sum(r['code'] == 'before' for r in runs)} runs each")
        print(f"{'':24} {'before':>10} {'after':>10}")
        for label, _, _ in FIGURES:
            medians = [
                statistics.median(figures(r["result"], corpus)[label] for r in runs if r["code"] == code)
                for code in ("before", "after")
            ]
            print(f"{label:24} {medians[0]:>10.2f} {medians[1]:>10.2f}")


if __name__ == "__main__":
    main()
