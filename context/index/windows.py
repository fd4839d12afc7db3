"""Similar-code search: files cut into chunks of lines, found again by BM25 over their identifiers.

``make_chunks`` turns lines into non-overlapping (start, end, identifiers) chunks of half a window; a hit is
shown as the window of ``window_lines`` centred on its chunk. ``WindowIndex`` keeps an inverted index
(identifier -> chunk ids, compact ``array``s) per workspace folder; a query uses only its rarest identifiers,
so a search touches few postings. Keywords are never indexed (they are in every chunk and never asked for).
Removed chunks are marked dead and dropped from the postings when they pile up. ``export``/``load`` turn the
whole index into bytes and back, so a warm restart does not rebuild it.
"""

from __future__ import annotations

import heapq
import marshal
import math
import re
import time
from array import array
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter

TOKEN = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]+")
MAX_TOKENS_PER_CHUNK = 256
MIN_TOKENS_PER_CHUNK = 3
_K1, _B = 1.2, 0.75
_DEAD = 0xFFFFFFFF
_EXPORT_VERSION = 2
MAX_KEPT_SEARCHES = 8
MAX_KEPT_TOKEN_FILES = 256  # files put again (the ones being edited) whose chunk identifiers are kept for their removal
# Keywords and ubiquitous names of the supported languages: frequent everywhere, so worthless to a query.
STOPWORDS = frozenset(
    [
        "and",
        "as",
        "assert",
        "async",
        "await",
        "break",
        "case",
        "catch",
        "char",
        "class",
        "const",
        "continue",
        "def",
        "default",
        "del",
        "do",
        "elif",
        "else",
        "enum",
        "export",
        "extends",
        "false",
        "final",
        "finally",
        "float",
        "for",
        "from",
        "func",
        "function",
        "go",
        "if",
        "impl",
        "import",
        "in",
        "int",
        "interface",
        "is",
        "let",
        "match",
        "mod",
        "new",
        "nil",
        "none",
        "not",
        "null",
        "or",
        "package",
        "pass",
        "private",
        "protected",
        "pub",
        "public",
        "raise",
        "return",
        "self",
        "static",
        "str",
        "string",
        "struct",
        "super",
        "switch",
        "this",
        "throw",
        "throws",
        "true",
        "try",
        "type",
        "typeof",
        "use",
        "var",
        "void",
        "while",
        "with",
        "yield",
        "None",
        "True",
        "False",
        "undefined",
        "let",
        "of",
        "bool",
        "double",
        "long",
        "byte",
        "fn",
        "mut",
        "ref",
        "where",
        "unsafe",
        "crate",
        "namespace",
        "using",
        "virtual",
        "override",
        "readonly",
        "end",
        "begin",
        "then",
        "elsif",
        "unless",
        "module",
        "require",
        "local",
        "defer",
        "chan",
        "map",
        "range",
        "select",
        "lambda",
        "nonlocal",
        "global",
    ]
)

Chunk = tuple[int, int, tuple[str, ...]]  # start line, end line (exclusive), distinct identifiers


def tokens_of(text: str) -> set[str]:
    return set(TOKEN.findall(text)) - STOPWORDS


def make_chunks(lines: list[str], window_lines: int = 16) -> list[Chunk]:
    size = max(1, window_lines // 2)
    chunks: list[Chunk] = []
    for start in range(0, len(lines), size):
        found = set(TOKEN.findall("\n".join(lines[start : start + size])))
        found -= STOPWORDS
        if len(found) >= MIN_TOKENS_PER_CHUNK:
            chunks.append((start, min(len(lines), start + size), tuple(sorted(found))[:MAX_TOKENS_PER_CHUNK]))
    return chunks


@dataclass(frozen=True, slots=True)
class WindowHit:
    key: str  # the file the chunk belongs to
    start_line: int
    end_line: int
    score: float  # share of the query's informative identifiers found, 0..1
    rank: float  # BM25 score, for ordering


class WindowIndex:
    """Inverted index over the chunks of many files. Not thread-safe: the caller holds a lock."""

    def __init__(self) -> None:
        self.postings: dict[str, array[int]] = {}
        # Postings loaded from a snapshot stay in one flat array until a token is written to (copy on write):
        # token -> (offset, length) into ``flat``. Loading then costs one copy instead of one array per token.
        self.frozen: dict[str, tuple[int, int]] = {}
        self.flat = array("I")
        self.owner: list[str | None] = []  # chunk id -> file key; None once removed
        self.starts = array("I")
        self.ends = array("I")
        self.lengths = array("H")
        self.by_file: dict[str, list[int]] = {}
        self.alive = 0
        self.dead = 0
        self.total_length = 0
        self.version = 0  # changes with every file set or removed: a search's answer holds until then
        # Removed chunks stay in the postings until compacted; their identifiers are counted here so document
        # frequencies stay exact. Without it, a file re-extracted at each typing pause would raise its own
        # identifiers' counts by one each time until they look common and drop out of every query.
        self._dead_df: dict[str, int] = {}
        self._kept_tokens: dict[str, list[tuple[str, ...]]] = {}  # files put more than once -> their chunks' ids
        self._searches: dict[tuple[object, ...], tuple[int, list[WindowHit]]] = {}

    def __len__(self) -> int:
        return self.alive

    def set_file(self, key: str, chunks: list[Chunk]) -> None:
        again = key in self.by_file  # put again: most likely edited, and put again at the next pause
        self.remove_file(key)  # and a new version
        if again:
            if len(self._kept_tokens) >= MAX_KEPT_TOKEN_FILES:
                self._kept_tokens.pop(next(iter(self._kept_tokens)))
            self._kept_tokens[key] = [tokens for _, _, tokens in chunks]
        ids: list[int] = []
        postings = self.postings
        for start, end, tokens in chunks:
            cid = len(self.owner)
            self.owner.append(key)
            self.starts.append(start)
            self.ends.append(end)
            self.lengths.append(min(len(tokens), 65535))
            self.total_length += len(tokens)
            for token in tokens:
                bucket = postings.get(token)
                if bucket is None:
                    bucket = postings[token] = self._thaw(token)
                bucket.append(cid)
            ids.append(cid)
        if ids:
            self.by_file[key] = ids
            self.alive += len(ids)

    def remove_file(self, key: str) -> None:
        self.version += 1
        ids = self.by_file.pop(key, None)
        kept = self._kept_tokens.pop(key, None)
        if not ids:
            return
        if kept is not None:
            dead_df = self._dead_df
            for tokens in kept:
                for token in tokens:
                    dead_df[token] = dead_df.get(token, 0) + 1
        for cid in ids:
            self.owner[cid] = None
            self.total_length -= self.lengths[cid]
        self.alive -= len(ids)
        self.dead += len(ids)
        if self.dead > max(20_000, self.alive):
            self.compact()

    def _thaw(self, token: str) -> array[int]:
        span = self.frozen.pop(token, None)
        return self.flat[span[0] : span[0] + span[1]] if span is not None else array("I")

    def _postings(self, token: str) -> array[int] | None:
        bucket = self.postings.get(token)
        if bucket is None:
            span = self.frozen.get(token)
            if span is not None:
                return self.flat[span[0] : span[0] + span[1]]
        return bucket

    def df(self, token: str) -> int:
        """Number of chunks the token occurs in (removed chunks of a file put only once may still count until
        compacted)."""
        bucket = self.postings.get(token)
        if bucket is not None:
            return len(bucket) - self._dead_df.get(token, 0)
        span = self.frozen.get(token)
        return span[1] - self._dead_df.get(token, 0) if span is not None else 0

    def compact(self) -> None:
        for token in list(self.frozen):
            self.postings[token] = self._thaw(token)
        self.flat = array("I")
        owner = self.owner
        for token in list(self.postings):
            kept = array("I", (c for c in self.postings[token] if owner[c] is not None))
            if kept:
                self.postings[token] = kept
            else:
                del self.postings[token]
        self.dead = 0
        self._dead_df.clear()

    def search(
        self,
        query: set[str],
        limit: int = 8,
        max_terms: int = 12,
        deadline: float | None = None,
        skip: frozenset[str] = frozenset(),
    ) -> list[WindowHit]:
        """Chunks sharing the most informative identifiers with ``query``; files in ``skip`` are left out.
        The last few answers are kept until a file changes: the next keystroke asks the same (the query leaves out
        the word being typed)."""
        memo_key = (frozenset(query), limit, max_terms, skip)
        known = self._searches.get(memo_key)
        if known is not None and known[0] == self.version:
            return list(known[1])
        hits, complete = self._search(query, limit, max_terms, deadline, skip)
        if complete:
            if len(self._searches) >= MAX_KEPT_SEARCHES:
                self._searches.pop(next(iter(self._searches)))
            self._searches[memo_key] = (self.version, hits)
        return list(hits)

    def _search(
        self, query: set[str], limit: int, max_terms: int, deadline: float | None, skip: frozenset[str]
    ) -> tuple[list[WindowHit], bool]:
        """(hits, whether every chosen term was scored before the deadline)."""
        n = self.alive
        if n == 0 or not query:
            return [], True
        max_df = max(50, n // 200)  # identifiers in over 0.5% of chunks say little and cost much
        terms = []
        for token in query:
            df = self.df(token)
            if 0 < df <= max_df:
                terms.append((df, token))
        if not terms:
            return [], True
        terms = heapq.nsmallest(max_terms, terms)
        avg = self.total_length / n if n else 1.0
        scores: dict[int, float] = {}
        total_idf = 0.0
        complete = True
        for position, (df, token) in enumerate(terms):
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            total_idf += idf
            # scores[cid] += idf for each posting, up to max_terms * max_df of them: in C but for the chunks an
            # earlier term already scored (new chunks keep the postings' order, as one by one they would)
            added = dict.fromkeys(self._postings(token) or (), idf)
            for cid in scores.keys() & added.keys():
                added[cid] = scores[cid] + idf
            scores.update(added)
            if deadline is not None and time.perf_counter() > deadline:  # the rarest terms are already in
                complete = position == len(terms) - 1
                break
        owner, lengths = self.owner, self.lengths
        # Rank by the plain idf sum first (C-speed), then apply BM25's length normalisation to the short list.
        top = heapq.nlargest(limit * 4, scores.items(), key=itemgetter(1))

        def rank(cid: int) -> float:
            return scores[cid] * (_K1 + 1) / (1 + _K1 * (1 - _B + _B * lengths[cid] / avg))

        live = [cid for cid, _ in top if owner[cid] is not None and owner[cid] not in skip]
        best = sorted(live, key=lambda cid: (-rank(cid), cid))[:limit]
        hits = [WindowHit(owner[c] or "", self.starts[c], self.ends[c], scores[c] / total_idf, rank(c)) for c in best]
        return hits, complete

    def export(self, keep: set[str]) -> bytes:
        """The index as bytes; chunks of files not in ``keep`` are written as removed."""
        keys = sorted(k for k in self.by_file if k in keep)
        number = {key: i for i, key in enumerate(keys)}
        owner = array("I", (number.get(k, _DEAD) if k is not None else _DEAD for k in self.owner))
        total = sum(self.lengths[c] for k in keys for c in self.by_file[k])
        tokens = sorted(set(self.postings) | set(self.frozen))
        flat, spans = array("I"), array("I")
        for token in tokens:
            bucket = self._postings(token) or array("I")
            spans.append(len(bucket))
            flat.extend(bucket)
        return marshal.dumps(
            (
                _EXPORT_VERSION,
                keys,
                owner.tobytes(),
                self.starts.tobytes(),
                self.ends.tobytes(),
                self.lengths.tobytes(),
                total,
                tokens,
                spans.tobytes(),
                flat.tobytes(),
            )
        )

    @classmethod
    def load(cls, data: bytes) -> WindowIndex:
        version, keys, owner_bytes, starts, ends, lengths, total, tokens, spans, flat = marshal.loads(data)
        if version != _EXPORT_VERSION:
            raise ValueError("index snapshot from another version")
        index = cls()
        owner_ids = array("I")
        owner_ids.frombytes(owner_bytes)
        index.owner = [keys[i] if i != _DEAD else None for i in owner_ids]
        index.starts.frombytes(starts)
        index.ends.frombytes(ends)
        index.lengths.frombytes(lengths)
        for cid, key in enumerate(index.owner):
            if key is not None:
                index.by_file.setdefault(key, []).append(cid)
        index.alive = sum(len(ids) for ids in index.by_file.values())
        index.dead = len(index.owner) - index.alive
        index.total_length = total
        lengths_of = array("I")
        lengths_of.frombytes(spans)
        index.flat.frombytes(flat)
        offsets = list(accumulate(lengths_of, initial=0))
        # offsets has one more item (the end)
        index.frozen = dict(zip(tokens, zip(offsets, lengths_of, strict=False), strict=True))
        return index
