"""Ranking and packing: from the candidates of all sources to the snippets that fit the budget, in a stable order.

Pure functions. ``fuse`` weighs each source; ``drop_visible`` removes what the model already sees in its
prefix/suffix window; ``dedup`` keeps one candidate per overlapping range (crediting agreement between sources);
``relevant`` drops candidates far weaker than the best one; ``pack`` fills the token budget best-first, preferring
what was chosen for the previous request so the context does not churn; ``prompt_order`` lays the chosen snippets
out file by file, the most relevant file last (nearest the cursor), each file's pieces in line order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

STICKY_BONUS = 0.15
MIN_SCORE = 0.1  # below this (after weighting) a candidate is a guess not worth tokens
AGREEMENT_SHARE = 0.25
# Inside the arguments of ``name(``, once the definition of ``name`` is found for sure (the sources score what the
# cursor refers to 1.3, what is merely near it below 1), a candidate under RELATIVE_FLOOR of its score is about
# something else (definitions of other names used in the file, one-line declarations, look-alike code): with the
# 0.5B model such snippets were copied into the arguments instead of helping. Elsewhere (before a name the model
# must pick) the weaker candidates are the options: all kept.
SURE_SCORE = 1.2
RELATIVE_FLOOR = 0.4


class Candidate(NamedTuple):
    key: str  # index key of the file (absolute path, or URI for unsaved documents)
    uri: str
    path: str  # shown to the model
    start_line: int
    end_line: int  # exclusive
    text: str
    source: str
    score: float  # 0..1 within its source; after ``fuse``, weighted
    excerpt: bool = True  # ``text`` is the file's lines [start_line, end_line) as is (not a summary)

    @property
    def ident(self) -> tuple[str, int, int]:
        return (self.key, self.start_line, self.end_line)


def fuse(candidates: Iterable[Candidate], weights: dict[str, float]) -> list[Candidate]:
    fused = (c._replace(score=c.score * weights.get(c.source, 1.0)) for c in candidates if c.text.strip())
    return [c for c in fused if c.score >= MIN_SCORE]


def drop_visible(candidates: Iterable[Candidate], key: str, window: tuple[int, int]) -> list[Candidate]:
    """Drop candidates of the current file whose lines are mostly inside the visible window [start, end)."""
    start, end = window
    kept = []
    for c in candidates:
        if c.key == key:
            overlap = min(c.end_line, end) - max(c.start_line, start)
            if overlap > 0 and overlap * 2 >= c.end_line - c.start_line:
                continue
        kept.append(c)
    return kept


def dedup(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per overlapping excerpt of a file (and per identical text); the best one, credited with a
    share of the others' scores. Summaries (outlines) are only compared by text: they say something else than the
    excerpts they overlap."""
    best: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (-c.score, c.key, c.start_line, c.source)):
        for i, kept in enumerate(best):
            same_text = kept.text == c.text
            same_summary = not kept.excerpt and not c.excerpt and kept.ident == c.ident  # two outlines of one class
            overlaps = (
                kept.excerpt
                and c.excerpt
                and kept.key == c.key
                and c.start_line < kept.end_line
                and kept.start_line < c.end_line
            )
            if same_text or same_summary or overlaps:
                if kept.source != c.source:
                    best[i] = kept._replace(score=kept.score + AGREEMENT_SHARE * c.score)
                break
        else:
            best.append(c)
    return best


def relevant(candidates: Iterable[Candidate], callee: str, share: float = RELATIVE_FLOOR) -> list[Candidate]:
    """When the best candidate is a sure one and shows ``callee`` (the name whose call the cursor just opened),
    those scoring at least ``share`` of its score; else all."""
    candidates = list(candidates)
    best = max(candidates, key=lambda c: c.score, default=None)
    if not callee or best is None or best.score < SURE_SCORE or callee not in best.text:
        return candidates
    return [c for c in candidates if c.score >= share * best.score]


_CALL_OPEN = re.compile(r"([A-Za-z_$][\w$]*)\s*$")


def opened_call(line_prefix: str) -> str:
    """The name of the call whose argument list the cursor is in on its line (``x = foo.bar(a, `` → ``bar``),
    or "". The same while the arguments are typed, so the context does not change with each keystroke."""
    depth = 0
    for i in range(len(line_prefix) - 1, -1, -1):
        char = line_prefix[i]
        if char in ")]}":
            depth += 1
        elif char in "([{":
            if depth == 0:
                match = _CALL_OPEN.search(line_prefix, 0, i) if char == "(" else None
                return match.group(1) if match else ""
            depth -= 1
    return ""


def pack(
    candidates: Iterable[Candidate],
    budget: int,
    cost: Callable[[Candidate], int],
    previous: frozenset[tuple[str, int, int]] = frozenset(),
) -> list[tuple[Candidate, int]]:
    """Best-first selection within ``budget`` tokens; ``cost`` counts a candidate's tokens (header included).

    Candidates chosen for the previous request of the same document get a bonus, so small score changes between
    keystrokes do not swap snippets in and out.
    """
    ranked = sorted(
        candidates, key=lambda c: (-(c.score + (STICKY_BONUS if c.ident in previous else 0.0)), c.key, c.start_line)
    )
    chosen: list[tuple[Candidate, int]] = []
    left = budget
    for c in ranked:
        if left <= 0:
            break
        tokens = cost(c)
        if tokens <= left:
            chosen.append((c, tokens))
            left -= tokens
    return chosen


def prompt_order(chosen: Iterable[tuple[Candidate, int]]) -> list[tuple[Candidate, int]]:
    """File by file, in ascending order of each file's best score, so what the cursor most likely refers to comes
    last, right before the current file (as in the repository-level format the model was trained on, where the
    files a file uses precede it); within a file, in line order, as the file reads. Equal scores keep one order
    (by path), so a local model's KV prefix cache stays valid while the chosen snippets do not change."""
    chosen = list(chosen)
    best: dict[str, float] = {}
    for c, _ in chosen:
        best[c.key] = max(best.get(c.key, c.score), c.score)
    return sorted(chosen, key=lambda item: (best[item[0].key], item[0].path, item[0].key, item[0].start_line))
