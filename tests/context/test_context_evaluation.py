"""The own-repository evaluation: which call sites are sampled (any name defined once in another non-test file, in
every language), the split by call form × cursor position, and the model figures per variant."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from qwen_lsp.context.evaluation.cases import (
    POSITIONS,
    CallSite,
    call_form,
    is_external_module,
    is_test_path,
    pick_cases,
    sample_sites,
    typed_chars,
)
from qwen_lsp.context.evaluation.run import (
    CaseResult,
    completion_order,
    edit_similarity,
    evaluate,
    format_report,
    summarize,
)
from qwen_lsp.context.index.repo_index import FileRecord
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.resolution.manifests import GoModule

EVAL_REPO = Path(__file__).resolve().parent.parent / "fixtures" / "eval_repo"


def test_edit_similarity() -> None:
    assert edit_similarity("abc", "abc") == 1.0
    assert edit_similarity("", "abc") == 0.0
    assert edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)


@pytest.mark.parametrize(
    ("line", "form"),
    [
        ("x = build(", "bare"),
        ("return new build(", "bare"),
        ("x = pkg.build(", "qualified"),
        ("a?.build(", "qualified"),
        ("Parser::build(", "qualified"),
        ("p->build(", "qualified"),
        ("builder\n    .build(", "qualified"),
        ("obj. build(", "qualified"),
        ("f(x).build(", "qualified"),
        ("x = (build(", "bare"),
    ],
)
def test_call_form(line: str, form: str) -> None:
    source = line.encode()
    assert call_form(source, source.rindex(b"build")) == form


@pytest.mark.parametrize(
    ("rel", "test"),
    [
        ("tests/test_core.py", True),
        ("pkg/core_test.go", True),
        ("src/app.spec.ts", True),
        ("src/ui.test.js", True),
        ("src/test/java/com/AppTest.java", True),
        ("pkg/conftest.py", True),
        ("pkg/core.py", False),
        ("src/contest.ts", False),
        ("src/testing_utils/x.go", False),
        ("pkg/latest.py", False),
        ("gcsfs/gcs_mocks.go", True),  # test doubles
        ("pkg/mock_client.go", True),
        ("src/__mocks__/fs.js", True),
        ("pkg/hammock.py", False),
        ("pkg/fakespot.ts", False),
    ],
)
def test_is_test_path(rel: str, test: bool) -> None:
    assert is_test_path(rel) is test


@pytest.mark.parametrize(
    ("language", "module", "external"),
    [
        ("python", "os.path", True),
        ("python", "pkg.core", False),
        ("rust", "std::process", True),
        ("rust", "crate::parser", False),
        ("java", "java.util.List", True),
        ("java", "com.shop.Registry", False),
        ("typescript", "lodash", True),
        ("typescript", "./util", False),
        ("go", "fmt", True),  # no go.mod: a path without a domain is the standard library's
        ("go", "path/filepath", True),
        ("go", "github.com/shop/app/internal/cart", False),
    ],
)
def test_external_modules(language: str, module: str, external: bool) -> None:
    assert is_external_module(language, module) is external


@pytest.mark.parametrize(
    ("module", "external"),
    [
        ("github.com/shop/app", False),
        ("github.com/shop/app/cart", False),
        ("example.com/patched/sub", False),  # a local replacement
        ("github.com/shop/application", True),
        ("cloud.google.com/go/storage", True),
        ("io/ioutil", True),
    ],
)
def test_go_imports_outside_the_module_are_external(module: str, external: bool) -> None:
    own = GoModule("", "github.com/shop/app", {"example.com/patched": "third_party/patched"})
    assert is_external_module("go", module, own) is external


@pytest.fixture
def indexed(engine: RepositoryContext) -> RepositoryContext:
    engine.start([EVAL_REPO])
    return engine


def test_sampled_sites_are_any_unique_name_in_every_language(indexed: RepositoryContext) -> None:
    cases = pick_cases(indexed.index, 20, seed=3)
    sites = {(c.language, c.form, c.callee) for c in cases}
    assert sites == {
        ("python", "bare", "build_payload"),
        ("python", "qualified", "Client"),
        ("python", "qualified", "send_request"),
        ("go", "bare", "OpenStore"),
        ("go", "qualified", "OpenStore"),
        ("go", "qualified", "PutValue"),
        ("rust", "qualified", "from_tokens"),
        ("rust", "qualified", "parse_all"),
        ("java", "qualified", "createDefault"),
        ("java", "qualified", "registerName"),
        ("typescript", "qualified", "formatLabel"),
        ("typescript", "bare", "formatLabel"),
    }
    # left out: a name defined twice (normalize), one defined only in a test file (make_test_client), a method of
    # the standard types (append), a name imported from the standard library (dedent_text), and calls inside the
    # defining file
    assert {c.path for c in cases if c.callee == "OpenStore" and c.form == "bare"} == {"go/store/seed.go"}
    assert {c.definition_path for c in cases if c.callee == "send_request"} == {"py/pkg/core.py"}
    for case in cases:
        line = case.text.split("\n")[case.line]
        assert case.expected not in line or not case.expected
        typed = typed_chars(case.callee) if case.position == "typing_name" else 0
        if case.position == "after_call":
            assert line.endswith(case.callee + "(") and case.offset == len(case.text[: case.offset])
        else:
            assert case.expected.startswith(case.callee[typed:] + "(") and not line.endswith(case.callee)
            assert line.endswith(case.callee[:typed])
        assert case.prefix.endswith(line) and case.suffix.startswith("\n")
    assert [(c.path, c.line, c.position) for c in pick_cases(indexed.index, 20, seed=3)] == [
        (c.path, c.line, c.position) for c in cases
    ]
    per_position = {p: sum(c.position == p for c in cases) for p in POSITIONS}
    assert per_position == {"after_call": 13, "before_name": 13, "typing_name": 13}  # every site at each position


def _site(rel: str, name: str, form: str, line: int) -> CallSite:
    record = FileRecord("/r/" + rel, "/r", rel, "python", [], [], 10, "")
    return CallSite(record, line, line * 10, line * 10 + len(name) + 1, name, form, (record, 0))


def test_sampling_is_stratified_by_form_and_spread_over_files_and_callees() -> None:
    sites = [_site("big.py", f"f{i}", "bare", i) for i in range(30)]  # one file with many calls
    sites += [_site(f"small{i}.py", f"g{i}", "bare", 1) for i in range(3)]
    sites += [_site("q.py", "same", "qualified", i) for i in range(10)]  # one callee, called often
    sites += [_site("r.py", "other", "qualified", 1)]
    picked = sample_sites(sites, 5, random.Random(0))
    bare = [s for s in picked if s.form == "bare"]
    qualified = [s for s in picked if s.form == "qualified"]
    assert len(bare) == 5 and len(qualified) == 5  # each form gets its share, not the common one all of it
    assert sum(s.record.rel == "big.py" for s in bare) == 2  # the per-file cap, while other files have sites
    assert sum(s.name == "other" for s in qualified) == 1  # caps relaxed only to fill the cell
    assert picked == sample_sites(sites, 5, random.Random(0))
    more = sample_sites(sites, 8, random.Random(0))
    assert sum(s.name == "same" for s in more) == 4  # a short cell rather than one callee filling it
    assert picked != sample_sites(sites, 5, random.Random(1))


def test_report_is_split_by_form_and_position(indexed: RepositoryContext) -> None:
    report = evaluate(indexed, n=20, seed=3)
    assert set(report.cells) == {f"{form}/{position}" for form in ("bare", "qualified") for position in POSITIONS}
    assert report.cells["bare/after_call"].n == 3 and report.cells["qualified/before_name"].n == 10
    assert sum(c.n for c in report.cells.values()) == report.cases == 39
    assert set(report.languages) == {"python", "go", "rust", "java", "typescript"}
    assert report.languages["rust"]["qualified/after_call"].n == 2
    data = json.loads(json.dumps(report.to_dict()))
    assert data["cells"]["qualified/before_name"]["n"] == 10
    assert 0.0 <= data["cells"]["qualified/before_name"]["recall"] <= 1.0
    assert {r["form"] for r in data["results"]} == {"bare", "qualified"}
    text = format_report(report)
    assert "qualified   before_name" in text and "(  3)" in text
    assert "python: bare/after_call" in text


def test_context_check_needs_the_definition_itself(indexed: RepositoryContext) -> None:
    report = evaluate(indexed, n=20, seed=3, budget_tokens=0)  # no budget: nothing can be found
    assert report.found == 0
    report = evaluate(indexed, n=20, seed=3, budget_tokens=4096)
    found = {(r.callee, r.form, r.position) for r in report.results if r.found}
    assert ("build_payload", "bare", "after_call") in found  # imported by name: the easy case is found


def test_the_context_size_at_each_budget_is_reported(indexed: RepositoryContext) -> None:
    sizes = {budget: evaluate(indexed, n=20, seed=3, budget_tokens=budget) for budget in (0, 64, 4096)}
    assert sizes[0].context_tokens_p95 == 0
    assert sizes[64].context_tokens_p50 > 0 and sizes[64].context_tokens_p95 <= 64
    assert sizes[4096].context_tokens_p95 > 64
    assert all(r.context_tokens <= 64 for r in sizes[64].results)
    assert json.loads(json.dumps(sizes[64].to_dict()))["context_tokens_p95"] == sizes[64].context_tokens_p95
    assert f"context size p50 {sizes[64].context_tokens_p50:.0f} tokens" in format_report(sizes[64])


def _result(form: str, position: str, expected: str, completions: dict[str, str], found: bool) -> CaseResult:
    return CaseResult("a.py", 1, 4, form, position, "python", "build", "b.py", expected, found, 1.0, 2, completions)


def test_model_figures_per_variant_and_cell() -> None:
    results = [
        _result("bare", "before_name", "build(x)", {"context": "build(x)", "no_context": "make(x)"}, True),
        _result("bare", "before_name", "build(y)", {"context": "build(z)", "no_context": "build(y)"}, True),
        _result("qualified", "after_call", "x)", {"context": "x)", "no_context": "x)"}, False),
    ]
    report = summarize(results, ["context", "no_context"])
    cell = report.cells["bare/before_name"]
    assert (cell.n, cell.found, cell.recall) == (2, 2, 1.0)
    assert cell.exact == {"context": 0.5, "no_context": 0.5}
    assert cell.named == {"context": 1.0, "no_context": 0.5}  # the completion starts with the callee
    assert report.cells["qualified/after_call"].exact == {"context": 1.0, "no_context": 1.0}
    assert report.cells["qualified/after_call"].named == {}  # the name is already typed there
    assert report.overall.exact["context"] == pytest.approx(2 / 3)
    assert "context: exact 67%" in format_report(report)


def test_completion_order_groups_a_sites_prompts_that_share_their_start() -> None:
    a_after, a_before = _result("bare", "after_call", "x)", {}, True), _result("bare", "before_name", "f(x)", {}, True)
    b_after = replace(a_after, line=9)
    b_before = replace(a_before, line=9)
    variants = ["context", "no_context", "context_suffix2000", "no_context_suffix2000"]
    order = completion_order([a_after, a_before, b_after, b_before], variants)
    assert order == [
        # site a: with context (two suffix lengths), then without; positions alternate so that each prompt follows
        # the one it shares most with (the same variant at the other position, or the same position and context)
        (0, "context"), (1, "context"), (1, "context_suffix2000"), (0, "context_suffix2000"),
        (0, "no_context"), (1, "no_context"), (1, "no_context_suffix2000"), (0, "no_context_suffix2000"),
        # site b starts without context, as site a ended
        (2, "no_context"), (3, "no_context"), (3, "no_context_suffix2000"), (2, "no_context_suffix2000"),
        (2, "context"), (3, "context"), (3, "context_suffix2000"), (2, "context_suffix2000"),
    ]  # fmt: skip
