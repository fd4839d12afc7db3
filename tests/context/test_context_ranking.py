"""Pure functions of ranking and packing."""

from __future__ import annotations

from qwen_lsp.context.ranking import Candidate, dedup, drop_visible, fuse, opened_call, pack, prompt_order, relevant


def cand(
    key: str = "/r/a.py",
    start: int = 0,
    end: int = 5,
    source: str = "similar",
    score: float = 0.5,
    text: str | None = None,
    excerpt: bool = True,
) -> Candidate:
    return Candidate(
        key,
        "file://" + key,
        key.rsplit("/", 1)[-1],
        start,
        end,
        text if text is not None else f"{key}:{start}-{end}",
        source,
        score,
        excerpt,
    )


def words(text: str) -> int:
    return len(text.split())


def test_fuse_weights_sources_and_drops_empty_and_weak() -> None:
    fused = fuse(
        [
            cand(source="definition", score=0.5),
            cand(source="similar", score=0.5, start=9),
            cand(text="   "),
            cand(source="similar", score=0.1, start=20),
        ],
        {"definition": 1.0, "similar": 0.5},
    )
    assert [(c.source, c.score) for c in fused] == [("definition", 0.5), ("similar", 0.25)]


def test_drop_visible_only_touches_the_current_file() -> None:
    kept = drop_visible(
        [cand(start=10, end=20), cand(start=18, end=40), cand("/r/b.py", start=10, end=20)], "/r/a.py", (0, 21)
    )
    assert [(c.key, c.start_line) for c in kept] == [("/r/a.py", 18), ("/r/b.py", 10)]


def test_dedup_keeps_best_of_overlapping_excerpts_and_credits_agreement() -> None:
    best = dedup(
        [
            cand(start=0, end=10, score=0.4, source="similar"),
            cand(start=5, end=15, score=0.8, source="definition"),
            cand(start=20, end=30, score=0.3),
        ]
    )
    assert [(c.start_line, c.source) for c in best] == [(5, "definition"), (20, "similar")]
    assert abs(best[0].score - (0.8 + 0.25 * 0.4)) < 1e-9


def test_dedup_keeps_summaries_next_to_excerpts_but_not_identical_texts() -> None:
    best = dedup(
        [
            cand(start=0, end=100, score=0.9, excerpt=False, text="class A: ..."),
            cand(start=10, end=20, score=0.5, text="body"),
            cand("/r/copy.py", start=10, end=20, score=0.4, text="body"),
        ]
    )
    assert [(c.key, c.start_line) for c in best] == [("/r/a.py", 0), ("/r/a.py", 10)]


def test_pack_fills_budget_best_first_and_skips_what_does_not_fit() -> None:
    big = cand(start=0, end=1, score=0.9, text="x " * 50)
    small = cand(start=10, end=11, score=0.5, text="y " * 10)
    smaller = cand(start=20, end=21, score=0.1, text="z " * 5)
    chosen = pack([smaller, small, big], 16, lambda c: words(c.text))
    assert [(c.start_line, tokens) for c, tokens in chosen] == [(10, 10), (20, 5)]
    assert pack([big], 0, lambda c: words(c.text)) == []


def test_pack_prefers_what_was_chosen_before() -> None:
    a = cand(start=0, end=1, score=0.50, text="a " * 10)
    b = cand(start=5, end=6, score=0.55, text="b " * 10)
    assert [c.start_line for c, _ in pack([a, b], 10, lambda c: words(c.text))] == [5]
    sticky = pack([a, b], 10, lambda c: words(c.text), previous=frozenset({a.ident}))
    assert [c.start_line for c, _ in sticky] == [0]


def test_dedup_keeps_one_of_two_summaries_of_the_same_range() -> None:
    best = dedup(
        [
            cand(start=10, end=90, score=1.0, excerpt=False, text="class A:\n    x: int\n    def f(self): ..."),
            cand(start=10, end=90, score=0.8, excerpt=False, text="class A(Base):\n    def f(self): ..."),
            cand(start=20, end=30, score=0.5, excerpt=False, text="def f(self): ..."),
        ]
    )
    assert [(c.start_line, c.end_line, c.score) for c in best] == [(10, 90, 1.0), (20, 30, 0.5)]


def test_relevant_after_an_opened_call_drops_what_scores_far_below_its_definition() -> None:
    callee = cand(start=0, score=1.3, source="definition", text="def connect(url): ...")
    used = cand("/r/b.py", score=0.6, source="definition")
    one_liner = cand("/r/c.py", score=0.3, source="definition")
    assert relevant([one_liner, callee, used], "connect") == [callee, used]
    # before a name (no call opened), or the call's definition not the sure best: the others are the options
    assert relevant([one_liner, callee, used], "") == [one_liner, callee, used]
    assert relevant([one_liner, callee, used], "Setenv") == [one_liner, callee, used]
    guess = callee._replace(score=0.9)
    assert relevant([one_liner, guess, used], "connect") == [one_liner, guess, used]
    assert relevant([], "connect") == []


def test_opened_call() -> None:
    assert opened_call("    total = self.client.send( ") == "send"
    assert opened_call("x = Type::new(") == "new"
    assert opened_call("if (!utils.isFunction(") == "isFunction"
    assert opened_call("    c := &Command{Args: ") == ""
    assert opened_call("foo(a, ") == opened_call("foo(a, b") == opened_call("foo(a, (b + c) * ") == "foo"
    assert opened_call("foo(a, bar(x)") == "foo"
    assert opened_call("foo(a) + ") == opened_call("(a + ") == opened_call("xs = [") == ""


def test_prompt_order_puts_the_most_relevant_file_last_and_each_file_in_line_order() -> None:
    chosen = [
        (cand("/r/b.py", start=40, source="definition", score=1.3), 1),
        (cand("/r/a.py", start=0, source="definition", score=0.5), 1),
        (cand("/r/b.py", start=5, source="outline", score=0.4), 1),
        (cand("/r/c.py", start=0, source="similar", score=0.7), 1),
    ]
    order = [(c.path, c.start_line) for c, _ in prompt_order(chosen)]
    assert order == [("a.py", 0), ("c.py", 0), ("b.py", 5), ("b.py", 40)]
    assert [(c.path, c.start_line) for c, _ in prompt_order(reversed(chosen))] == order
