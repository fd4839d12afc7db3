"""Own-repository evaluation: does the assembled context contain what a completion needs?

``evaluate`` samples call sites (``cases``: names defined exactly once in another non-test file, bare and
qualified calls, each at the cursor after ``name(`` and before the name), opens each file as the user has it (the
line typed up to the cursor, the rest of it masked, so nothing leaks from the index), gathers context at the cursor
and checks whether the callee's definition is among the snippets. Figures are split by call form × cursor position
(and by language), with n per cell. Given ``complete(case, variant) -> str`` (the served completion pipeline, run
once per variant such as with / without repository context), it also reports exact match and edit similarity of
the completed rest of the line, and how often the completion names the callee, per variant and per cell. The completions run site by site, in
the order where consecutive prompts share the longest start (``completion_order``): a local model then evaluates
only what differs (the other suffix length, the other cursor position) instead of each prompt cold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..base import ContextRequest, Snippet
from ..repository import RepositoryContext
from .cases import FORMS, MODEL_POSITIONS, POSITIONS, Case, pick_cases, typed_chars


@dataclass(frozen=True)
class Completed:
    """What one completion inserted, and what the model read for it (0 when the backend does not say)."""

    text: str
    prompt_tokens: int = 0
    evaluated_tokens: int = 0  # prompt tokens not reused from the KV cache
    first_token_ms: float = 0.0


Complete = Callable[[Case, str], "str | Completed"]  # (case, variant) -> what the completion inserts at the cursor
Window = Callable[[str, int], tuple[int, int]]  # (text, cursor) -> (prefix_start, suffix_end) of the file window
VARIANTS = ("context", "no_context")

# fmt: off
__all__ = ["Case", "CaseResult", "Cell", "Completed", "Report", "completion_order", "edit_similarity", "evaluate",
           "format_report", "percentile", "pick_cases", "summarize"]
# fmt: on


@dataclass
class CaseResult:
    path: str
    line: int
    column: int
    form: str
    position: str
    language: str
    callee: str
    definition_path: str
    expected: str
    found: bool
    gather_ms: float
    snippets: int
    completions: dict[str, str] = field(default_factory=dict)  # variant -> first completed line
    completion_ms: dict[str, float] = field(default_factory=dict)
    prompt_tokens: dict[str, int] = field(default_factory=dict)
    evaluated_tokens: dict[str, int] = field(default_factory=dict)
    first_token_ms: dict[str, float] = field(default_factory=dict)
    context_tokens: int = 0  # the snippets' text, as counted for the budget


@dataclass
class Cell:
    """Figures of one group of cases (a call form × cursor position, a language, or all)."""

    n: int
    found: int
    exact: dict[str, float] = field(default_factory=dict)  # variant -> share of exact matches
    similarity: dict[str, float] = field(default_factory=dict)
    named: dict[str, float] = field(default_factory=dict)  # before the name: the completion starts with the callee
    complete_p50_ms: dict[str, float] = field(default_factory=dict)
    prompt_tokens_p50: dict[str, float] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        return self.found / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "found": self.found, "recall": round(self.recall, 4)}
        for name in ("exact", "similarity", "named", "complete_p50_ms", "prompt_tokens_p50"):
            if getattr(self, name):
                out[name] = {k: round(v, 4) for k, v in getattr(self, name).items()}
        return out


@dataclass
class Report:
    cases: int
    found: int
    gather_p50_ms: float
    gather_p95_ms: float
    context_tokens_p50: float = 0.0  # the context's size at the budget, without the file window
    context_tokens_p95: float = 0.0
    cells: dict[str, Cell] = field(default_factory=dict)  # "form/position"
    languages: dict[str, dict[str, Cell]] = field(default_factory=dict)  # language -> "form/position" -> cell
    variants: list[str] = field(default_factory=list)
    complete_p50_ms: dict[str, float] = field(default_factory=dict)
    prompt_tokens_p50: dict[str, float] = field(default_factory=dict)
    prompt_tokens_per_s: float = 0.0  # measured on the calls that evaluated most of their prompt
    results: list[CaseResult] = field(default_factory=list)

    @property
    def found_rate(self) -> float:
        return self.found / self.cases if self.cases else 0.0

    @property
    def overall(self) -> Cell:
        return _cell(self.results, self.variants)

    def to_dict(self, with_results: bool = True) -> dict[str, Any]:
        out = {
            "cases": self.cases,
            "found": self.found,
            "found_rate": round(self.found_rate, 4),
            "gather_p50_ms": self.gather_p50_ms,
            "gather_p95_ms": self.gather_p95_ms,
            "context_tokens_p50": self.context_tokens_p50,
            "context_tokens_p95": self.context_tokens_p95,
            "overall": self.overall.to_dict(),
            "cells": {k: c.to_dict() for k, c in self.cells.items()},
            "languages": {lang: {k: c.to_dict() for k, c in cells.items()} for lang, cells in self.languages.items()},
            "variants": self.variants,
            "complete_p50_ms": self.complete_p50_ms,
            "prompt_tokens_p50": self.prompt_tokens_p50,
            "prompt_tokens_per_s": self.prompt_tokens_per_s,
        }
        if with_results:
            out["results"] = [asdict(r) for r in self.results]
        return out


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


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else 0.0


def line_window(prefix_lines: int = 80, suffix_lines: int = 30) -> Window:
    """A file window of whole lines around the cursor (the served one is passed in by the server's CLI)."""

    def window(text: str, offset: int) -> tuple[int, int]:
        before = text[:offset].splitlines(keepends=True)
        start = len("".join(before[:-prefix_lines])) if len(before) > prefix_lines else 0
        return start, offset + len("".join(text[offset:].splitlines(keepends=True)[:suffix_lines]))

    return window


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].strip()


def has_definition(snippets: Iterable[Snippet], case: Case) -> bool:
    """A snippet covers the definition's first line and shows the name (a class outline may leave a member out)."""
    return any(
        s.uri == uri and s.start_line <= start < max(s.end_line, s.start_line + 1) and case.callee in s.text
        for s in snippets
        for uri, start in case.definitions
    )


def evaluate(
    engine: RepositoryContext,
    n: int = 25,
    seed: int = 0,
    complete: Complete | None = None,
    budget_tokens: int = 1024,
    count_tokens: Callable[[str], int] | None = None,
    window: Window | None = None,
    variants: Iterable[str] = VARIANTS,
    progress: Callable[[int, int], None] | None = None,
    model_positions: Iterable[str] = MODEL_POSITIONS,
) -> Report:
    """Run the evaluation on an engine whose folders are indexed (``engine.start`` done): ``n`` call sites per
    call form, each at every cursor position; with ``complete``, at ``model_positions`` only, each completed once
    per variant (in ``completion_order``)."""
    count = count_tokens or (lambda s: len(s) // 4 + 1)
    window = window or line_window()
    variants = list(variants) if complete is not None else []
    cases = pick_cases(engine.index, n, seed, POSITIONS if complete is None else tuple(model_positions))
    results: list[CaseResult] = []
    for case in cases:
        _open(engine, case)
        prefix_start, suffix_end = window(case.text, case.offset)
        request = ContextRequest(
            case.uri,
            case.path,
            case.language_id,
            case.text,
            case.offset,
            case.line,
            case.column,
            budget_tokens,
            count,
            prefix_start,
            suffix_end,
        )
        result = engine.gather(request)
        results.append(
            CaseResult(
                case.path,
                case.line,
                case.column,
                case.form,
                case.position,
                case.language,
                case.callee,
                case.definition_path,
                case.expected,
                has_definition(result.snippets, case),
                result.timings_ms.get("total", 0.0),
                len(result.snippets),
                context_tokens=sum(count(s.text) for s in result.snippets),
            )
        )
        engine.document_closed(case.uri)
    order = completion_order(cases, variants)
    for done, (i, variant) in enumerate(order, 1):
        case, outcome = cases[i], results[i]
        _open(engine, case)  # the served pipeline gathers its own context from the document as typed
        started = time.perf_counter()
        answer = complete(case, variant)  # type: ignore[misc]
        outcome.completion_ms[variant] = round((time.perf_counter() - started) * 1000, 1)
        answer = answer if isinstance(answer, Completed) else Completed(answer)
        outcome.completions[variant] = _first_line(answer.text)
        if answer.prompt_tokens:
            outcome.prompt_tokens[variant] = answer.prompt_tokens
            outcome.evaluated_tokens[variant] = answer.evaluated_tokens
            outcome.first_token_ms[variant] = round(answer.first_token_ms, 1)
        engine.document_closed(case.uri)
        if progress is not None:
            progress(done, len(order))
    engine.wait_idle()
    return summarize(results, variants)


def _with_context(variant: str) -> bool:
    return not variant.startswith("no_context")


def completion_order(cases: Sequence[Case | CaseResult], variants: list[str]) -> list[tuple[int, str]]:
    """(case index, variant) in the order the completions run: site by site (a site's two cursor positions are
    consecutive cases), and within a site the variants with the same context setting next to each other, the
    positions alternating (after, before, before, after, ...). Prompts put the context first, then the file's
    prefix, then its suffix, and the typed part of the line last: so the other position of a variant, and the
    other suffix length at the same position, reuse the previous prompt's KV cache up to where they differ. The
    next site starts with the setting the previous one ended with (same file: the same prefix up to that site)."""
    groups: list[list[int]] = []
    for i, case in enumerate(cases):
        if groups and (cases[groups[-1][0]].path, cases[groups[-1][0]].line) == (case.path, case.line):
            groups[-1].append(i)
        else:
            groups.append([i])
    modes = [[v for v in variants if _with_context(v)], [v for v in variants if not _with_context(v)]]
    order: list[tuple[int, str]] = []
    for g, group in enumerate(groups):
        forward = True
        for mode in modes if g % 2 == 0 else modes[::-1]:
            for variant in mode:
                order += [(i, variant) for i in (group if forward else group[::-1])]
                forward = not forward
    return order


def _open(engine: RepositoryContext, case: Case) -> None:
    engine.document_changed(case.uri, case.text, 1, case.language_id)  # the file as the user has it
    engine.wait_idle()


def _cell(results: list[CaseResult], variants: list[str]) -> Cell:
    cell = Cell(len(results), sum(r.found for r in results))
    if not results:
        return cell
    for variant in variants:
        done = [r for r in results if variant in r.completions]
        if not done:
            continue
        cell.exact[variant] = sum(r.completions[variant] == r.expected for r in done) / len(done)
        cell.similarity[variant] = sum(edit_similarity(r.completions[variant], r.expected) for r in done) / len(done)
        naming = [r for r in done if r.position in ("before_name", "typing_name")]
        if naming:
            cell.named[variant] = sum(_names_callee(r, variant) for r in naming) / len(naming)
        times = [r.completion_ms[variant] for r in done if variant in r.completion_ms]
        if times:
            cell.complete_p50_ms[variant] = round(percentile(times, 50), 1)
        tokens = [r.prompt_tokens[variant] for r in done if variant in r.prompt_tokens]
        if tokens:
            cell.prompt_tokens_p50[variant] = percentile(tokens, 50)
    return cell


def _names_callee(result: CaseResult, variant: str) -> bool:
    """The completion starts with the callee's name (its rest, where the start of it is typed)."""
    typed = typed_chars(result.callee) if result.position == "typing_name" else 0
    return result.completions[variant].startswith(result.callee[typed:])


def _cells(results: list[CaseResult], variants: list[str]) -> dict[str, Cell]:
    return {
        f"{form}/{position}": _cell([r for r in results if r.form == form and r.position == position], variants)
        for form in FORMS
        for position in POSITIONS
        if any(r.form == form and r.position == position for r in results)
    }


def summarize(results: list[CaseResult], variants: Iterable[str] = ()) -> Report:
    variants = list(variants)
    gather = [r.gather_ms for r in results]
    tokens = [r.context_tokens for r in results]
    report = Report(
        len(results),
        sum(r.found for r in results),
        round(percentile(gather, 50), 2),
        round(percentile(gather, 95), 2),
        percentile(tokens, 50),
        percentile(tokens, 95),
        _cells(results, variants),
        variants=variants,
        results=results,
    )
    for language in sorted({r.language for r in results}):
        report.languages[language] = _cells([r for r in results if r.language == language], variants)
    overall = report.overall
    report.complete_p50_ms = overall.complete_p50_ms
    report.prompt_tokens_p50 = overall.prompt_tokens_p50
    report.prompt_tokens_per_s = prompt_rate(results)
    return report


def prompt_rate(results: list[CaseResult], min_tokens: int = 256) -> float:
    """Prompt tokens evaluated per second over the calls that evaluated at least ``min_tokens`` (the time to the
    first token is then mostly prompt evaluation): with the prompt sizes, what a cold prompt costs."""
    tokens = seconds = 0.0
    for r in results:
        for variant, evaluated in r.evaluated_tokens.items():
            if evaluated >= min_tokens and r.first_token_ms.get(variant):
                tokens += evaluated
                seconds += r.first_token_ms[variant] / 1000
    return round(tokens / seconds, 1) if seconds else 0.0


def format_report(report: Report) -> str:
    lines = [
        f"cases: {report.cases} (call sites of names defined once in another non-test file, each at the "
        f"cursor positions below: after `(`, before the name, with its first characters typed (without a model))",
        f"callee definition in the context: {report.found}/{report.cases} ({report.found_rate:.0%})",
        f"context assembly: p50 {report.gather_p50_ms:.1f} ms, p95 {report.gather_p95_ms:.1f} ms; "
        f"context size p50 {report.context_tokens_p50:.0f} tokens, p95 {report.context_tokens_p95:.0f}",
        "",
        "call form   cursor        recall (n)   " + "".join(f"exact {v:<12}" for v in report.variants),
    ]
    for key, cell in report.cells.items():
        form, position = key.split("/")
        row = f"{form:<11} {position:<13} {cell.recall:>4.0%} ({cell.n:>3})  "
        row += "".join(
            f"{cell.exact[v]:>5.0%}{'':13}" if v in cell.exact else f"{'-':>5}{'':13}" for v in report.variants
        )
        lines.append(row.rstrip())
    if len(report.languages) > 1:
        lines.append("")
        for language, cells in report.languages.items():
            lines.append(f"{language}: " + ", ".join(f"{k} {c.recall:.0%} (n {c.n})" for k, c in cells.items()))
    overall = report.overall
    if report.variants:
        lines += [
            "",
            "overall: "
            + ", ".join(
                f"{v}: exact {overall.exact.get(v, 0):.0%}, similarity {overall.similarity.get(v, 0):.2f}, "
                f"callee named {overall.named.get(v, 0):.0%}, p50 {report.complete_p50_ms.get(v, 0):.0f} ms"
                for v in report.variants
            ),
        ]
    return "\n".join(lines)
