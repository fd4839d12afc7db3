"""The own-repository evaluation: case picking, the context check, and exact match / edit similarity through a
completion callback."""

from __future__ import annotations

from pathlib import Path

import pytest
from context_repo import write_repo

from qwen_lsp.context.base import Snippet
from qwen_lsp.context.evaluation import edit_similarity, evaluate, format_report, pick_cases
from qwen_lsp.context.repository import RepositoryContext

FILES = {
    "lib/geometry.py": '''
        def area_of_circle(radius: float) -> float:
            return 3.14159 * radius * radius


        def perimeter_of_square(side: float) -> float:
            return 4 * side
        ''',
    "app/report.py": '''
        from lib.geometry import area_of_circle, perimeter_of_square


        def describe(radius, side):
            area = area_of_circle(radius)
            perimeter = perimeter_of_square(side)
            return f"{area} {perimeter}"
        ''',
    "web/format.ts": '''
        export function money(cents: number): string {
          return (cents / 100).toFixed(2);
        }
        ''',
    "web/page.ts": '''
        import { money } from "./format";

        export function line(item: string, cents: number): string {
          const price = money(cents);
          return item + " " + price;
        }
        ''',
}


def test_edit_similarity() -> None:
    assert edit_similarity("abc", "abc") == 1.0
    assert edit_similarity("", "abc") == 0.0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)


@pytest.fixture
def indexed(tmp_path: Path, engine: RepositoryContext) -> RepositoryContext:
    engine.start([write_repo(tmp_path / "evalrepo", FILES)])
    return engine


def test_cases_are_calls_into_other_files(indexed: RepositoryContext) -> None:
    cases = pick_cases(indexed, 10, seed=3)
    assert {(c.path, c.callee) for c in cases} <= {
        ("app/report.py", "area_of_circle"), ("app/report.py", "perimeter_of_square"), ("web/page.ts", "money")}
    assert {c.path for c in cases} == {"app/report.py", "web/page.ts"}  # one case per file
    for case in cases:
        assert case.callee in case.expected and case.expected not in case.prefix + case.suffix
    assert [c.expected for c in pick_cases(indexed, 10, seed=3)] == [c.expected for c in cases]


def test_report_with_a_completion_callback(indexed: RepositoryContext) -> None:
    answers = {c.callee: c.expected for c in pick_cases(indexed, 10, seed=3)}

    def complete(prefix: str, suffix: str, snippets: list[Snippet]) -> str:
        # a stand-in model that can only write the call when it sees the callee's definition
        for callee, expected in answers.items():
            if any(f"def {callee}" in s.text or f"function {callee}" in s.text for s in snippets):
                return expected + "\n"
        return "pass\n"

    report = evaluate(indexed, n=10, seed=3, complete=complete)
    assert report.cases == 2 and report.found == 2
    assert report.exact_with == 1.0 and report.exact_without == 0.0
    assert report.similarity_with == 1.0 > (report.similarity_without or 0.0)
    text = format_report(report)
    assert "callee definition in the context: 2/2 (100%)" in text and "exact match: 100% with context" in text
    assert report.to_dict()["found_rate"] == 1.0
