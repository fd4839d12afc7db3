"""Similar-code search: files cut into overlapping line windows, found again by BM25 over their identifiers.

``make_windows`` turns lines into (start, end, identifiers) windows. ``WindowIndex`` keeps an inverted index
(identifier -> window ids, compact ``array``s) over every indexed window; a query uses only its rarest
identifiers, so a search touches few postings and stays within a millisecond or two on large repositories.
Removed windows are marked dead and dropped from the postings when they pile up.
"""

from __future__ import annotations

import heapq
import math
import re
import time
from array import array
from operator import itemgetter
from dataclasses import dataclass

TOKEN = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]+")
MAX_TOKENS_PER_WINDOW = 256
MIN_TOKENS_PER_WINDOW = 3
_K1, _B = 1.2, 0.75

Window = tuple[int, int, tuple[str, ...]]  # start line, end line (exclusive), distinct identifiers


def tokens_of(text: str) -> set[str]:
    return set(TOKEN.findall(text))


def make_windows(lines: list[str], size: int = 16, stride: int = 0) -> list[Window]:
    """Windows of ``size`` lines every ``stride`` lines (default: half a window), each with its identifiers."""
    stride = stride or max(1, size // 2)
    per_window = max(1, size // stride)
    # Tokenize each stride-sized chunk once; a window is the union of consecutive chunks.
    chunks = [dict.fromkeys(TOKEN.findall("\n".join(lines[i:i + stride]))) for i in range(0, len(lines), stride)]
    windows: list[Window] = []
    for c in range(max(1, len(chunks) - per_window + 1)):
        start = c * stride
        end = min(len(lines), start + size)
        merged: dict[str, None] = {}
        for chunk in chunks[c:c + per_window]:
            merged.update(chunk)
        if len(merged) >= MIN_TOKENS_PER_WINDOW:
            windows.append((start, end, tuple(merged)[:MAX_TOKENS_PER_WINDOW]))
    return windows


def jaccard(a: set[str], b: set[str]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


@dataclass(frozen=True, slots=True)
class WindowHit:
    key: str  # the file the window belongs to
    start_line: int
    end_line: int
    score: float  # share of the query's informative identifiers found, 0..1
    rank: float  # BM25 score, for ordering


class WindowIndex:
    """Inverted index over the windows of many files. Not thread-safe: the caller holds a lock."""

    def __init__(self) -> None:
        self.postings: dict[str, array] = {}
        self.owner: list[str | None] = []  # window id -> file key; None once removed
        self.starts = array("I")
        self.ends = array("I")
        self.lengths = array("H")
        self.by_file: dict[str, list[int]] = {}
        self.alive = 0
        self.dead = 0
        self.total_length = 0

    def __len__(self) -> int:
        return self.alive

    def set_file(self, key: str, windows: list[Window]) -> None:
        self.remove_file(key)
        ids: list[int] = []
        postings = self.postings
        for start, end, tokens in windows:
            wid = len(self.owner)
            self.owner.append(key)
            self.starts.append(start)
            self.ends.append(end)
            self.lengths.append(min(len(tokens), 65535))
            self.total_length += len(tokens)
            for token in tokens:
                bucket = postings.get(token)
                if bucket is None:
                    bucket = postings[token] = array("I")
                bucket.append(wid)
            ids.append(wid)
        if ids:
            self.by_file[key] = ids
            self.alive += len(ids)

    def remove_file(self, key: str) -> None:
        ids = self.by_file.pop(key, None)
        if not ids:
            return
        for wid in ids:
            self.owner[wid] = None
            self.total_length -= self.lengths[wid]
        self.alive -= len(ids)
        self.dead += len(ids)
        if self.dead > max(20_000, self.alive):
            self.compact()

    def compact(self) -> None:
        owner = self.owner
        for token in list(self.postings):
            kept = array("I", (w for w in self.postings[token] if owner[w] is not None))
            if kept:
                self.postings[token] = kept
            else:
                del self.postings[token]
        self.dead = 0

    def search(self, query: set[str], limit: int = 8, max_terms: int = 12, deadline: float | None = None,
               skip: frozenset[str] = frozenset()) -> list[WindowHit]:
        """Windows sharing the most informative identifiers with ``query``; files in ``skip`` are left out."""
        n = self.alive
        if n == 0 or not query:
            return []
        max_df = max(50, n // 100)  # identifiers in over 1% of windows say little and cost much
        terms = []
        for token in query:
            bucket = self.postings.get(token)
            if bucket is not None and len(bucket) <= max_df:
                terms.append((len(bucket), token))
        if not terms:
            return []
        terms = heapq.nsmallest(max_terms, terms)
        avg = self.total_length / n if n else 1.0
        scores: dict[int, float] = {}
        total_idf = 0.0
        for df, token in terms:
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            total_idf += idf
            for wid in self.postings[token]:
                scores[wid] = scores.get(wid, 0.0) + idf
            if deadline is not None and time.perf_counter() > deadline:  # the rarest terms are already in
                break
        owner, lengths = self.owner, self.lengths
        # Rank by the plain idf sum first (C-speed), then apply BM25's length normalisation to the short list.
        top = heapq.nlargest(limit * 4, scores.items(), key=itemgetter(1))

        def rank(wid: int) -> float:
            return scores[wid] * (_K1 + 1) / (1 + _K1 * (1 - _B + _B * lengths[wid] / avg))

        live = [wid for wid, _ in top if owner[wid] is not None and owner[wid] not in skip]
        best = sorted(live, key=lambda wid: (-rank(wid), wid))[:limit]
        return [WindowHit(owner[w] or "", self.starts[w], self.ends[w], scores[w] / total_idf, rank(w))
                for w in best]
