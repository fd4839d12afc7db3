"""Retrieval source for long-window budgets: whole files.

When the budget is large (``ContextOptions.long_window_tokens`` and up, e.g. refactoring with a 256K-token
model), snippets are not enough: the files the current file imports, then its folder neighbours, then recently
opened files are offered whole. They rank below everything else, so they only take what the budget leaves.
"""

from __future__ import annotations

from ..documents import LineCache, OpenDocuments
from ..gathering import Gathering
from ..ranking import Candidate

MAX_FILES = 64
FILE_SCORE = 0.25


def file_candidates(g: Gathering, docs: OpenDocuments, line_cache: LineCache) -> list[Candidate]:
    keys: list[str] = []
    for imp in g.imports:
        keys += g.resolve(imp)
    here = g.rel.rpartition("/")[0].lower()
    with g.index.lock:
        keys += sorted(k for k in g.index.dirs.get(here, ()) if g.index.files[k].folder == g.folder)
    keys += docs.recently_opened()
    out: list[Candidate] = []
    seen = {g.key}
    for key in keys:
        if key in seen or len(out) >= MAX_FILES or (out and g.expired()):
            continue
        seen.add(key)
        doc = docs.get(key)
        record = g.index.files.get(key)
        lines = doc.lines if doc is not None else line_cache.lines(key, record.digest) if record else None
        if not lines:
            continue
        out.append(
            Candidate(
                key,
                g.uri_of(key),
                g.shown_path(record, key),
                0,
                len(lines),
                "\n".join(lines),
                "file",
                FILE_SCORE * 0.98 ** len(out),
                excerpt=False,
            )
        )
    return out
