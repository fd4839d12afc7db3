"""Own-repository evaluation: does the assembled context contain what a completion needs?

``evaluate`` picks lines (seeded) in the indexed repository that call something defined in another file,
reached through the file's imports; masks each line as if the user were about to type it (the document is
opened with the line empty, so nothing leaks from the index); gathers context at that position and checks
whether the callee's definition is among the snippets. Given ``complete(prefix, suffix, snippets) -> str``, it
also completes each masked line with and without the snippets and reports exact match and edit similarity of
the first completed line, and the latencies.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from .base import ContextRequest, Snippet
from .documents import key_to_uri
from .gathering import resolve_import
from .index import FileRecord
from .languages import language_named, parser_for
from .repository import RepositoryContext
from .symbols import identifiers_between, split_lines

Complete = Callable[[str, str, list[Snippet]], str]


@dataclass
class Case:
    path: str
    line: int
    expected: str  # the masked line, stripped
    callee: str
    definitions: list[tuple[str, int]]  # (uri, start line) of the callee's definitions
    prefix: str = field(repr=False, default="")
    suffix: str = field(repr=False, default="")
    language_id: str = ""
    uri: str = ""
    key: str = ""


@dataclass
class CaseResult:
    path: str
    line: int
    callee: str
    expected: str
    found: bool
    gather_ms: float
    snippets: int
    with_context: str | None = None
    without_context: str | None = None
    with_ms: float | None = None
    without_ms: float | None = None


@dataclass
class Report:
    cases: int
    found: int
    gather_p50_ms: float
    gather_p95_ms: float
    exact_with: float | None = None
    exact_without: float | None = None
    similarity_with: float | None = None
    similarity_without: float | None = None
    complete_p50_ms_with: float | None = None
    complete_p50_ms_without: float | None = None
    results: list[CaseResult] = field(default_factory=list)

    @property
    def found_rate(self) -> float:
        return self.found / self.cases if self.cases else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "found_rate": self.found_rate}


def edit_similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / length of the longer string."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return 1.0 - previous[-1] / max(len(a), len(b))


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else 0.0


def _cases_in(engine: RepositoryContext, record: FileRecord, rng: random.Random) -> list[Case]:
    spec = language_named(record.language)
    try:
        text = Path(record.key).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    source = text.encode("utf-8", "surrogatepass")
    tree = parser_for(spec).parse(source)
    lines = split_lines(text)
    local = {d.name for d in record.definitions}
    bound: dict[str, list[str]] = {}  # name -> definition files, through the file's imports
    for imp in record.imports:
        files = resolve_import(engine.index, imp, spec.import_dialect, record.key, record.folder, record.rel, record)
        for local_name, original in imp.names:
            bound.setdefault(local_name, []).extend(files)
    import_lines = {imp.line for imp in record.imports}
    out: list[Case] = []
    for name, byte in identifiers_between(spec, tree, 0, len(source)):
        if source[byte + len(name.encode()):byte + len(name.encode()) + 1] != b"(" or name in local:
            continue
        files = bound.get(name)
        if not files:
            continue
        definitions = [(key_to_uri(r.key), d.start_line) for r, d in engine.index.definitions_named(name)
                       if r.key in files and not d.parent]
        line = source.count(b"\n", 0, byte)
        if not definitions or line in import_lines:
            continue
        row = lines[line]
        stripped = row.strip()
        if len(stripped) < 6 or stripped.startswith(("def ", "function ", "func ", "import ", "from ", "#", "//")):
            continue
        line_start = sum(len(x) + 1 for x in lines[:line])
        indent = len(row) - len(row.lstrip())
        prefix = text[:line_start + indent]
        suffix = text[line_start + len(row):]
        out.append(Case(record.rel, line, stripped, name, definitions, prefix, suffix, spec.lsp_ids[0],
                        key_to_uri(record.key), record.key))
    return [rng.choice(out)] if out else []


def pick_cases(engine: RepositoryContext, n: int, seed: int = 0) -> list[Case]:
    """Up to ``n`` cases, at most one per file, from files in a seeded random order."""
    rng = random.Random(seed)
    with engine.index.lock:
        records = sorted((r for r in engine.index.files.values() if r.imports and r.key.startswith("/")),
                         key=lambda r: r.key)
    rng.shuffle(records)
    cases: list[Case] = []
    for record in records:
        if len(cases) >= n:
            break
        cases.extend(_cases_in(engine, record, rng))
    return cases


def _first_line(text: str) -> str:
    return text.strip("\n").split("\n", 1)[0].strip()


def evaluate(engine: RepositoryContext, n: int = 50, seed: int = 0, complete: Complete | None = None,
             budget_tokens: int = 1024, count_tokens: Callable[[str], int] | None = None,
             prefix_lines: int = 80, suffix_lines: int = 30) -> Report:
    """Run the evaluation on an engine whose folders are indexed (``engine.start`` done)."""
    count = count_tokens or (lambda s: len(s) // 4 + 1)
    results: list[CaseResult] = []
    for case in pick_cases(engine, n, seed):
        text = case.prefix + case.suffix
        offset = len(case.prefix)
        engine.document_changed(case.uri, text, 1, case.language_id)  # the file as the user has it: line not typed
        engine.wait_idle()
        prefix_start = len("".join(case.prefix.splitlines(keepends=True)[:-prefix_lines])) if \
            case.prefix.count("\n") > prefix_lines else 0
        suffix_end = offset + len("".join(case.suffix.splitlines(keepends=True)[:suffix_lines]))
        request = ContextRequest(case.uri, case.path, case.language_id, text, offset, case.line,
                                 len(case.prefix) - (case.prefix.rfind("\n") + 1), budget_tokens, count,
                                 prefix_start, suffix_end)
        result = engine.gather(request)
        found = any(s.uri == uri and s.start_line <= start < max(s.end_line, s.start_line + 1)
                    for s in result.snippets for uri, start in case.definitions)
        outcome = CaseResult(case.path, case.line, case.callee, case.expected, found,
                             result.timings_ms.get("total", 0.0), len(result.snippets))
        if complete is not None:
            window_prefix, window_suffix = text[prefix_start:offset], text[offset:suffix_end]
            started = time.perf_counter()
            outcome.with_context = _first_line(complete(window_prefix, window_suffix, result.snippets))
            outcome.with_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            outcome.without_context = _first_line(complete(window_prefix, window_suffix, []))
            outcome.without_ms = (time.perf_counter() - started) * 1000
        results.append(outcome)
        engine.document_closed(case.uri)
    engine.wait_idle()
    return summarize(results)


def summarize(results: list[CaseResult]) -> Report:
    gather = [r.gather_ms for r in results]
    report = Report(len(results), sum(r.found for r in results), round(percentile(gather, 50), 2),
                    round(percentile(gather, 95), 2), results=results)
    completed = [r for r in results if r.with_context is not None and r.without_context is not None]
    if completed:
        k = len(completed)
        report.exact_with = sum(r.with_context == r.expected for r in completed) / k
        report.exact_without = sum(r.without_context == r.expected for r in completed) / k
        report.similarity_with = sum(edit_similarity(r.with_context or "", r.expected) for r in completed) / k
        report.similarity_without = sum(edit_similarity(r.without_context or "", r.expected) for r in completed) / k
        report.complete_p50_ms_with = round(percentile([r.with_ms or 0.0 for r in completed], 50), 1)
        report.complete_p50_ms_without = round(percentile([r.without_ms or 0.0 for r in completed], 50), 1)
    return report


def format_report(report: Report) -> str:
    lines = [f"cases: {report.cases} lines calling a function defined in another file",
             f"callee definition in the context: {report.found}/{report.cases} ({report.found_rate:.0%})",
             f"context assembly: p50 {report.gather_p50_ms:.1f} ms, p95 {report.gather_p95_ms:.1f} ms"]
    if report.exact_with is not None:
        lines += [f"exact match: {report.exact_with:.0%} with context, {report.exact_without:.0%} without",
                  f"edit similarity: {report.similarity_with:.2f} with context, {report.similarity_without:.2f} without",
                  f"completion p50: {report.complete_p50_ms_with:.0f} ms with context, "
                  f"{report.complete_p50_ms_without:.0f} ms without"]
    return "\n".join(lines)
