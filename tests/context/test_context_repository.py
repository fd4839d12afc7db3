"""``RepositoryContext`` on a real multi-language repository: cross-file definitions, open documents, changes,
warm restarts, stability between keystrokes, and robustness."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from context_repo import count_tokens, request_at_end
from resolution_helpers import definitions_at_end

from qwen_lsp.context.base import ContextRequest
from qwen_lsp.context.repository import RepositoryContext


@pytest.mark.parametrize(
    ("rel", "language_id", "def_path", "signature"),
    [
        ("py/app/main.py", "python", "py/shop/pricing.py", "def compute_total(items: list[float]"),
        ("ts/src/app.ts", "typescript", "ts/src/format.ts", "export function formatPrice(cents: number"),
        ("go/main.go", "go", "go/util/sum.go", "func Sum(values []int) int"),
    ],
)
def test_cross_file_definition_is_in_the_snippets(
    repo: Path, engine: RepositoryContext, rel: str, language_id: str, def_path: str, signature: str
) -> None:
    engine.start([repo])
    path = repo / rel
    engine.document_changed(path.as_uri(), path.read_text(), 1, language_id)
    engine.wait_idle()
    result = engine.gather(request_at_end(path, language_id, root=repo))
    definitions = [s for s in result.snippets if s.source == "definition"]
    assert any(s.path == def_path and signature in s.text for s in definitions), result.snippets
    snippet = next(s for s in definitions if s.path == def_path)
    assert snippet.uri == (repo / def_path).as_uri()
    assert snippet.tokens > 0 and snippet.score > 0 and snippet.end_line > snippet.start_line
    assert result.repo_name == "repo"
    assert {"definitions", "outline", "similar", "recent", "total"} <= set(result.timings_ms)


def test_a_similar_window_that_only_repeats_the_cursors_file_is_left_out(repo: Path, engine: RepositoryContext) -> None:
    body = 'def order_total(orders: list[Order]) -> float:\n    """The total price of all orders."""\n'
    (repo / "py/shop/copy_of_sample.py").write_text("from dataclasses import dataclass\n\n\n" + body)
    (repo / "py/shop/with_a_body.py").write_text(
        "import math\n\n\n" + body + "    return math.fsum(o.price for o in orders)\n"
    )
    engine.start([repo])
    engine.wait_idle()
    sample = repo / "py/app/sample.py"
    result = engine.gather(
        request_at_end(sample, "python", text="from dataclasses import dataclass\n\n\n" + body + "    ", root=repo)
    )
    similar = {s.path for s in result.snippets if s.source == "similar"}
    assert "py/shop/with_a_body.py" in similar and "py/shop/copy_of_sample.py" not in similar, result.snippets


def test_gather_works_for_a_document_the_engine_has_not_seen(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    result = engine.gather(request_at_end(repo / "py/app/main.py", "python", root=repo))
    assert any(s.path == "py/shop/pricing.py" for s in result.snippets)


def test_unsaved_edits_of_an_open_file_are_what_other_files_see(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    pricing = repo / "py/shop/pricing.py"
    edited = pricing.read_text() + "\n\ndef apply_coupon(total: float, code: str) -> float:\n    return total\n"
    engine.document_changed(pricing.as_uri(), edited, 1, "python")
    main = repo / "py/app/main.py"
    text = "from shop.pricing import apply_coupon\n\n\ndef pay(total):\n    return apply_coupon(\n"
    engine.wait_idle()
    result = engine.gather(request_at_end(main, "python", text=text, root=repo))
    assert any("def apply_coupon(total: float, code: str)" in s.text for s in result.snippets)
    # closing the editor without saving: the engine goes back to the file on disk
    engine.document_closed(pricing.as_uri())
    engine.wait_idle()
    result = engine.gather(request_at_end(main, "python", text=text, root=repo))
    assert not any("apply_coupon" in s.text for s in result.snippets if s.path == "py/shop/pricing.py")


def test_file_system_changes_update_the_index(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    new = repo / "py/shop/discounts.py"
    new.write_text("def seasonal_discount(month: int) -> float:\n    return 0.1\n")
    engine.files_changed([new]).result(10)
    main = repo / "py/app/main.py"
    text = "from shop.discounts import seasonal_discount\n\nrate = seasonal_discount(\n"
    assert any(
        "def seasonal_discount" in s.text
        for s in engine.gather(request_at_end(main, "python", text=text, root=repo)).snippets
    )
    new.unlink()
    engine.files_changed([new]).result(10)
    assert not any(
        "seasonal_discount" in s.text
        for s in engine.gather(request_at_end(main, "python", text=text, root=repo)).snippets
    )


def test_warm_restart_reads_nothing_unchanged(repo: Path, tmp_path: Path) -> None:
    first = RepositoryContext(cache_dir=tmp_path / "cache")
    first.start([repo])
    cold = first.scan_stats()[repo.resolve().as_posix()]
    first.stop()
    assert cold.parsed + cold.reused == cold.total == 7 and cold.loaded == 0
    (repo / "py/shop/pricing.py").write_text("def compute_total(items):\n    return sum(items)\n")
    second = RepositoryContext(cache_dir=tmp_path / "cache")
    try:
        progress: list[tuple[int, int]] = []
        second.start([repo], lambda done, total: progress.append((done, total)))
        warm = second.scan_stats()[repo.resolve().as_posix()]
        assert (warm.loaded, warm.parsed, warm.from_snapshot) == (6, 1, 5)  # the empty __init__.py has no chunks
        # the similar-code index came back from the snapshot, minus what changed, plus the changed file anew
        hits = {h.key.rsplit("/", 2)[-1] for h in second.index.search_windows({"formatPrice"}, limit=5)}
        assert hits == {"format.ts", "app.ts"}
        assert not second.index.search_windows({"TAX_RATE"}, limit=5)
        assert any(h.key.endswith("pricing.py") for h in second.index.search_windows({"compute_total"}, 5))
        assert progress[-1] == (7, 7)
        result = second.gather(request_at_end(repo / "py/app/main.py", "python", root=repo))
        assert any("def compute_total(items):" in s.text for s in result.snippets)
    finally:
        second.stop()


def test_context_is_stable_between_keystrokes(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    main = repo / "py/app/main.py"
    text = main.read_text()
    engine.document_changed(main.as_uri(), text, 1, "python")
    engine.wait_idle()
    first = engine.gather(request_at_end(main, "python", text=text, root=repo))
    for i, typed in enumerate(["it", "ite", "items"]):
        new_text = text.rstrip("\n") + typed + "\n"
        engine.document_changed(main.as_uri(), new_text, 2 + i, "python")
        again = engine.gather(request_at_end(main, "python", text=new_text, root=repo))
        assert [(s.path, s.start_line, s.text) for s in again.snippets] == [
            (s.path, s.start_line, s.text) for s in first.snippets
        ]


def test_budget_is_respected(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    request = request_at_end(repo / "py/app/main.py", "python", root=repo)
    full = engine.gather(request)
    assert full.snippets
    smallest = min(s.tokens for s in full.snippets)
    small = engine.gather(ContextRequest(**{**request.__dict__, "budget_tokens": smallest}))
    assert small.snippets and sum(s.tokens for s in small.snippets) <= smallest
    tight = engine.gather(ContextRequest(**{**request.__dict__, "budget_tokens": smallest - 1}))
    assert sum(s.tokens for s in tight.snippets) <= smallest - 1
    assert engine.gather(ContextRequest(**{**request.__dict__, "budget_tokens": 0})).snippets == []


def test_snippets_inside_the_visible_window_are_dropped(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    pricing = repo / "py/shop/pricing.py"
    text = pricing.read_text()
    offset = text.index("self.items.append")
    request = ContextRequest(
        pricing.as_uri(),
        "py/shop/pricing.py",
        "python",
        text,
        offset,
        text.count("\n", 0, offset),
        8,
        4096,
        count_tokens,
        0,
        len(text),
    )
    result = engine.gather(request)
    assert not [s for s in result.snippets if s.path == "py/shop/pricing.py"]
    # with only the last lines visible, the enclosing class header above them becomes useful
    window_start = text.index("    def add")
    narrow = ContextRequest(**{**request.__dict__, "prefix_start": window_start})
    assert any(s.source == "outline" and "class Cart" in s.text for s in engine.gather(narrow).snippets)


@pytest.mark.parametrize(
    "request_args",
    [
        dict(uri="untitled:Untitled-1", path="Untitled-1", language_id="python", text="x = foo(", offset=8),
        dict(uri="file:///nowhere/a.zz", path="a.zz", language_id="unknown", text="abc", offset=99),
        dict(uri="file:///nowhere/a.py", path="a.py", language_id="python", text="", offset=0),
    ],
)
def test_gather_never_raises(engine: RepositoryContext, request_args: dict) -> None:
    request = ContextRequest(line=0, character=0, budget_tokens=512, count_tokens=count_tokens, **request_args)
    result = engine.gather(request)
    assert result.snippets == [] and "total" in result.timings_ms


def test_a_failing_token_counter_gives_no_context_instead_of_an_error(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])

    def broken(text: str) -> int:
        raise RuntimeError("tokenizer gone")

    request = request_at_end(repo / "py/app/main.py", "python", root=repo)
    result = engine.gather(ContextRequest(**{**request.__dict__, "count_tokens": broken}))
    assert result.snippets == []


def test_folders_can_be_added_and_removed(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo / "py"])
    go_main = repo / "go/main.go"

    def go_snippets() -> list[str]:
        return [
            s.path for s in engine.gather(request_at_end(go_main, "go", root=repo)).snippets if s.path.endswith(".go")
        ]

    assert go_snippets() == []
    engine.add_folder(repo / "go").result(10)
    assert "util/sum.go" in go_snippets()
    engine.remove_folder(repo / "go").result(10)
    assert go_snippets() == []


def test_long_window_budgets_get_whole_files(repo: Path, engine: RepositoryContext) -> None:
    engine.start([repo])
    request = request_at_end(repo / "py/app/main.py", "python", root=repo)
    assert not any(s.source == "file" for s in engine.gather(request).snippets)
    big = engine.gather(ContextRequest(**{**request.__dict__, "budget_tokens": 100_000}))
    files = [s for s in big.snippets if s.source == "file"]
    pricing = (repo / "py/shop/pricing.py").read_text()
    assert any(s.path == "py/shop/pricing.py" and s.text == pricing for s in files)


def test_a_document_opened_before_its_folder_is_indexed(repo: Path, engine: RepositoryContext) -> None:
    main = repo / "py/app/main.py"
    engine.document_changed(main.as_uri(), main.read_text(), 1, "python")
    engine.wait_idle()
    engine.start([repo])
    assert engine.index.files[main.as_posix()].rel == "py/app/main.py"
    result = engine.gather(request_at_end(main, "python", root=repo))
    assert any(s.path == "py/shop/pricing.py" and s.source == "definition" for s in result.snippets)


_SHOP = {
    "shop/net.py": '''
        def connect(url: str, retries: int = 3) -> "Connection":
            """Open a connection to ``url``."""
            return Connection(url, retries)
        ''',
    "shop/audit.py": """
        def audit(event: str, **fields: str) -> None:
            print(event, fields)
        """,
}


@pytest.mark.parametrize(
    ("line", "others_kept"),
    [
        ("    return connect(<CURSOR>", False),
        ("    return connect(url, <CURSOR>", False),
        ("    return <CURSOR>", True),
    ],
)
def test_inside_a_found_calls_arguments_weak_definitions_of_other_names_are_left_out(
    engine: RepositoryContext, tmp_path: Path, line: str, others_kept: bool
) -> None:
    """Definitions of other names the file uses were copied into the arguments by the small model; before a name
    they are the options it picks from."""
    main = textwrap.dedent(
        """
        from shop.audit import audit
        from shop.net import connect


        def close(connection):
            audit("close")
            connection.close()


        def open_default(url):
        """
    ).lstrip()
    snippets = definitions_at_end(engine, tmp_path / "repo", _SHOP, "app.py", main + line + "\n", "python")
    assert any("def connect(" in s.text for s in snippets) or others_kept
    assert any(s.path == "shop/audit.py" for s in snippets) == others_kept, [(s.path, s.score) for s in snippets]
