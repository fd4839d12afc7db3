"""Retrieval helper: the functions and classes the current file already calls, as one-line signatures.

Before a bare name is typed (``return |``, ``x := |``), nothing on the line names the callee; what an IDE offers
there is what the code around already uses: functions of the same package, imported names, and (Java, C#...) the
enclosing class's own and inherited methods. The names called without a qualifier in the visible window are
counted, resolved from the current file, and the most used ones are listed under their defining files (one
snippet per file, one signature per line), so they cost little of the budget.
"""

from __future__ import annotations

import re
from collections import Counter

from ..gathering import Gathering
from ..index.repo_index import FileRecord
from ..index.windows import STOPWORDS
from ..ranking import Candidate
from ..resolution.outlines import listing
from ..resolution.resolver import Resolver
from ..syntax.symbols import CLASS_LIKE, FUNCTION_LIKE, Definition

MAX_NAMES = 24  # names resolved per request, most called first
MAX_LISTED = 16  # signatures listed in all
CHARS_BEFORE = 12_000  # the code read for calls: a few hundred lines around the cursor, not a whole long file
CHARS_AFTER = 4_000
USED_SCORE = 0.45  # below what the cursor line names, above definitions merely imported
_BARE_CALL = re.compile(r"(?<![\w$.:>])([A-Za-z_$][\w$]*)\s*\(")
_CALLABLE = FUNCTION_LIKE | CLASS_LIKE | {"type"}


def used_callee_candidates(g: Gathering, resolver: Resolver, skip: set[str]) -> list[Candidate]:
    """Signatures of what the visible window calls by bare name (``skip``: names already resolved)."""
    request = g.request
    start = max(0, min(request.prefix_start, request.offset - CHARS_BEFORE))
    end = max(request.suffix_end, request.offset + CHARS_AFTER) if request.suffix_end >= 0 else None
    text = request.text[start:end]
    counts = Counter(name for name in _BARE_CALL.findall(text) if len(name) > 2 and name not in STOPWORDS)
    own = {d.name for d in g.record.definitions if not d.parent} if g.record is not None else set()
    here = resolver.here()
    entries: list[tuple[FileRecord, Definition]] = []
    for rank, (name, _) in enumerate(counts.most_common(MAX_NAMES)):
        if rank >= 4 and g.expired():
            break
        if name in own or name in skip:
            continue
        found = resolver.lookup(here, name) or resolver.implicit_members(name)
        entries += [
            (f.record, f.definition) for f in found[:1] if f.record.key != g.key and f.definition.kind in _CALLABLE
        ]
        if len(entries) >= MAX_LISTED:
            break
    return listing(g, entries, USED_SCORE, {}) if entries else []
