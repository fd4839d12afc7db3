"""Retrieval source 4: what the user touched lately: recently edited ranges and recently opened files.

Edits come newest first, a few lines around each; a recently opened file contributes its outline (the first
line of each top-level definition's signature), so the model knows what it offers.
"""

from __future__ import annotations

from itertools import islice

from ..documents import OpenDocuments
from ..gathering import Gathering
from ..ranking import Candidate

MAX_EDITS = 6
MAX_FILES = 3
EDIT_CONTEXT_LINES = 2
MAX_EDIT_LINES = 14
MAX_OUTLINE_LINES = 20
_COMMENT_STARTS = ("#", "//", "/*", "*", "--", '"""', "'''", "@", "<!--")


def _signature_line(summary: str) -> str:
    for line in summary.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(_COMMENT_STARTS):
            return line
    return ""


def recent_candidates(g: Gathering, docs: OpenDocuments) -> list[Candidate]:
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for rank, edit in enumerate(reversed(docs.recent_edits())):
        if len(out) >= MAX_EDITS or (out and g.expired()):
            break
        doc = docs.get(edit.key)
        if doc is None:
            continue
        lines = g.lines if edit.key == g.key else doc.lines
        start = max(0, edit.start_line - EDIT_CONTEXT_LINES)
        end = min(len(lines), edit.end_line + EDIT_CONTEXT_LINES, start + MAX_EDIT_LINES)
        if (edit.key, start) in seen or start >= end:
            continue
        seen.add((edit.key, start))
        record = g.index.files.get(edit.key)
        out.append(
            Candidate(
                edit.key,
                doc.uri,
                g.shown_path(record, edit.key),
                start,
                end,
                "\n".join(lines[start:end]),
                "recent_edit",
                0.9**rank,
            )
        )
    for rank, key in enumerate(k for k in docs.recently_opened() if k != g.key):
        if rank >= MAX_FILES or g.expired():
            break
        record = g.index.files.get(key)
        if record is None:
            continue
        top = list(islice((d for d in record.definitions if not d.parent), MAX_OUTLINE_LINES))
        lines = [line for line in (_signature_line(d.summary) for d in top) if line]
        if lines:
            end = max(d.end_line for d in top)
            out.append(
                Candidate(
                    key,
                    g.uri_of(key),
                    g.shown_path(record, key),
                    top[0].start_line,
                    end,
                    "\n".join(lines),
                    "recent_file",
                    0.5 * 0.8**rank,
                    excerpt=False,
                )
            )
    return out
