"""Retrieval helper: the functions and classes the current file already calls, as one-line signatures.

Before a bare name is typed (``return |``, ``x := |``), nothing on the line names the callee; what an IDE offers
there is what the code around already uses: functions of the same package, imported names, and (Java, C#...) the
enclosing class's own and inherited methods. The names called without a qualifier in the visible window are
counted, resolved from the current file, and the most used ones are listed under their defining files (one
snippet per file, one signature per line), so they cost little of the budget.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from functools import lru_cache
from itertools import chain

from ..gathering import Gathering
from ..index.repo_index import FileRecord
from ..index.windows import STOPWORDS
from ..ranking import Candidate
from ..resolution.outlines import listing, members_of
from ..resolution.resolver import IMPLICIT_THIS, Resolver
from ..resolution.signatures import signature_line
from ..syntax.symbols import CLASS_LIKE, FUNCTION_LIKE, Definition

MAX_SECONDS = 0.0015  # at least this long, and at most a quarter of the definitions source's time left (a budget
TIME_SHARE = 0.25  # lifted for an evaluation must not leave the result to the machine's load)
MAX_NAMES = 24  # names resolved per request, most called first
MAX_LISTED = 16  # signatures listed in all
LINES_BEFORE = 300  # the code read for calls: a few hundred lines around the cursor, not a whole long file
LINES_AFTER = 100
USED_SCORE = 0.45  # below what the cursor line names, above definitions merely imported
NEIGHBOUR_SCORE = 0.3  # callable without a qualifier but not called yet: the most used ones
MAX_NEIGHBOURS = 60
NEIGHBOUR_SIGNATURES = 12  # the first of them again with their signature, when room is left
NAMES_SCORE = 0.5  # the names of what the code may call, before a bare name: cheap, so ranked with what it calls
MAX_PACKAGE_FILES = 48
MAX_BASE_DEPTH = 3
_BARE_CALL = re.compile(r"(?<![\w$.:>])([A-Za-z_$][\w$]*)\s*\(")
_CALLABLE = FUNCTION_LIKE | CLASS_LIKE | {"type"}
_PROTECTED = re.compile(r"(?:@\w+(?:\([^)]*\))?\s+)*(?:\w+\s+)*?protected\b")


@lru_cache(maxsize=65536)
def _bare_calls(line: str) -> tuple[str, ...]:
    """Names called without a qualifier on a line (cached: from one keystroke to the next, one line changes)."""
    return tuple(name for name in _BARE_CALL.findall(line) if len(name) > 2 and name not in STOPWORDS)


def used_callee_candidates(g: Gathering, resolver: Resolver, skip: set[str]) -> tuple[list[Candidate], set[str]]:
    """Signatures of what the code around the cursor calls by bare name (``skip``: names already resolved), then
    of what it may call; and the names listed."""
    if g.expired():  # the least certain part of the definitions source: only in the time left to it
        return [], set()
    now = time.perf_counter()
    stop = min(g.deadline, now + max(MAX_SECONDS, TIME_SHARE * (g.deadline - now)))
    first = max(0, min(g.window[0], g.cursor_line - LINES_BEFORE))
    last = max(g.window[1], g.cursor_line + LINES_AFTER)
    counts = Counter(chain.from_iterable(map(_bare_calls, g.lines[first:last])))
    own = {d.name for d in g.record.definitions if not d.parent} if g.record is not None else set()
    entries: list[tuple[FileRecord, Definition]] = []
    types = _enclosing_types(g, resolver)
    for name, _ in counts.most_common(MAX_NAMES):
        if time.perf_counter() > stop:
            break
        if name in own or name in skip or name not in g.index.symbols:  # builtins, the standard library
            continue
        entries += _callable(g, resolver, name, types)
        if len(entries) >= MAX_LISTED:
            break
    out = listing(g, entries, USED_SCORE, {}) if entries else []
    listed = {(r.key, d.start_line) for r, d in entries}
    neighbours = _neighbours(g, resolver, types) if time.perf_counter() < stop else []
    more = [(r, d) for r, d in neighbours if (r.key, d.start_line) not in listed and d.name not in skip]
    if more and g.spec is not None and g.spec.name in IMPLICIT_THIS:
        # a class's inherited methods are many: by name, cheap enough to fit next to the rest; the most likely
        # again with their signature if room is left
        out += listing(g, more[:MAX_NEIGHBOURS], NAMES_SCORE, {}, max_signatures=0)
        out += listing(g, more[:NEIGHBOUR_SIGNATURES], NEIGHBOUR_SCORE, {})
    elif more:  # a Go package's functions: the most used with their signature, the others by name
        out += listing(g, more[:MAX_NEIGHBOURS], NEIGHBOUR_SCORE, {}, max_signatures=NEIGHBOUR_SIGNATURES)
    return out, {d.name for _, d in entries}


def _enclosing_types(g: Gathering, resolver: Resolver) -> str:
    """The classes around the cursor where a bare name may be an inherited member (Java, C#...): part of the key of
    the lookups that depend on them, so an answer for one class is not given in another of the same file."""
    if g.spec is None or g.spec.name not in IMPLICIT_THIS:
        return ""
    return "/".join(s.definition.name for s in resolver.enclosing() if s.definition)


def _callable(g: Gathering, resolver: Resolver, name: str, types: str) -> list[tuple[FileRecord, Definition]]:
    """The function or class ``name`` denotes in the current file, if defined in another one (kept for the
    index's generation: the same names are looked up keystroke after keystroke)."""
    memo_key = ("used_callee", g.key, types, name)
    cached = g.index.cached_lookup(memo_key)
    if cached is None:
        found = resolver.lookup(resolver.here(), name) or resolver.implicit_members(name)
        cached = [
            (f.record, f.definition) for f in found[:1] if f.record.key != g.key and f.definition.kind in _CALLABLE
        ]
        g.index.store_lookup(memo_key, cached)
    return cached  # type: ignore[return-value]


def _neighbours(g: Gathering, resolver: Resolver, types: str) -> list[tuple[FileRecord, Definition]]:
    """What the cursor's code may call without a qualifier besides what it already calls: the functions of its
    package in other files (Go), the methods the enclosing class inherits (Java-like languages); the ones the
    repository uses most first (kept for the index's generation)."""
    language = g.spec.name if g.spec else ""
    if language != "go" and language not in IMPLICIT_THIS:
        return []
    memo_key = ("neighbours", g.key, types)
    cached = g.index.cached_lookup(memo_key)
    if cached is None:
        cached = _ranked_by_usage(g, _reachable(g, resolver, language))
        g.index.store_lookup(memo_key, cached)
    return cached  # type: ignore[return-value]


def _ranked_by_usage(g: Gathering, entries: list[tuple[FileRecord, Definition]]) -> list[tuple[FileRecord, Definition]]:
    """Members declared ``protected`` first (there for subclasses to call), then the most used in the repository."""
    usage = g.index.usage({d.name for _, d in entries})
    return sorted(entries, key=lambda e: (not _PROTECTED.match(signature_line(e[1])), -usage.get(e[1].name, 0)))


def _reachable(g: Gathering, resolver: Resolver, language: str) -> list[tuple[FileRecord, Definition]]:
    out: list[tuple[FileRecord, Definition]] = []
    if language == "go":
        tests = g.rel.endswith("_test.go")
        for key in resolver.package_files([g.key])[:MAX_PACKAGE_FILES]:
            record = g.index.files.get(key)
            if record is None or key == g.key or (record.rel.endswith("_test.go") and not tests):
                continue
            out += [(record, d) for d in record.definitions if not d.parent and d.kind in FUNCTION_LIKE]
    elif language in IMPLICIT_THIS:
        scopes = resolver.enclosing()
        # what the class declares itself is in view (or its own outline); an override hides the base's method
        seen = {
            d.name for s in scopes if s.record and s.definition for _, d in members_of(resolver, s.record, s.definition)
        }
        for _ in range(MAX_BASE_DEPTH):
            scopes = [base for scope in scopes for base in resolver.bases(scope)]
            for scope in scopes:
                if scope.record is not None and scope.definition is not None:
                    for r, d in members_of(resolver, scope.record, scope.definition):
                        if d.kind in FUNCTION_LIKE and r.key != g.key and d.name not in seen:
                            seen.add(d.name)
                            out.append((r, d))
    return out
