"""Retrieval source 3: code similar to the lines just before the cursor, from the whole workspace.

The query is the identifiers of the last window of lines before the cursor; ``WindowIndex`` (BM25 over the
chunks of every indexed file, open documents included as the editor has them) returns the best chunks, shown
as windows of ``window_lines`` around them.
Windows from open or recently edited files get a small boost: they are what the user is working on. Windows
that mostly repeat the prompt's own file window are left out.
"""

from __future__ import annotations

import re

from ..documents import LineCache, OpenDocuments
from ..gathering import Gathering, line_start_within
from ..index.windows import tokens_of
from ..ranking import Candidate

MAX_CANDIDATES = 6
QUERY_CHARS = 4000  # the query's end: a line of minified code can be megabytes long
PARTIAL_WORD = re.compile(r"[A-Za-z0-9_$]+$")
OPEN_FILE_BOOST = 1.2
NEW_LINES_SHARE = 5  # a window must add at least one line in five


def similar_candidates(g: Gathering, docs: OpenDocuments, line_cache: LineCache, window_lines: int) -> list[Candidate]:
    first = max(0, g.cursor_line - window_lines + 1)
    # up to the cursor, without the word being typed: the query (and so the snippets) should not change with
    # every keystroke
    text = g.request.text
    line_start = line_start_within(text, g.request.offset, QUERY_CHARS)
    before_cursor = PARTIAL_WORD.sub("", text[line_start : g.request.offset])
    query = tokens_of("\n".join(g.lines[first : g.cursor_line] + [before_cursor])[-QUERY_CHARS:])
    if not query:
        return []
    hits = g.index.search_windows(query, limit=MAX_CANDIDATES * 2, deadline=g.deadline)
    edited = {edit.key for edit in docs.recent_edits()}
    known_lines = {line.strip() for line in g.lines[g.window[0] : g.window[1]]}
    out: list[Candidate] = []
    for hit in hits:
        if len(out) >= MAX_CANDIDATES or (out and g.expired()):
            break
        if hit.key == g.key and hit.start_line <= g.cursor_line and hit.end_line > first:
            continue  # the query's own lines
        doc = docs.get(hit.key)
        record = g.index.files.get(hit.key)
        # show the window centred on the matching chunk
        first_shown = max(0, hit.start_line - (window_lines - (hit.end_line - hit.start_line)) // 2)
        shown: list[str] | None
        if hit.key == g.key:
            shown = g.lines[first_shown : first_shown + window_lines]
        elif doc is not None:
            shown = doc.lines[first_shown : first_shown + window_lines]
        elif record is not None:
            shown = line_cache.lines_between(hit.key, record.digest, first_shown, first_shown + window_lines)
        else:
            shown = None
        if not shown:
            continue
        low, high = 0, len(shown)
        while low < high and not shown[low].strip():
            low += 1
        while high > low and not shown[high - 1].strip():
            high -= 1
        if low >= high or _adds_nothing(shown[low:high], known_lines):
            continue
        start, end = first_shown + low, first_shown + high
        boost = OPEN_FILE_BOOST if doc is not None or hit.key in edited else 1.0
        out.append(
            Candidate(
                hit.key,
                g.uri_of(hit.key),
                g.shown_path(record, hit.key),
                start,
                end,
                "\n".join(shown[low:high]),
                "similar",
                min(1.0, hit.score * boost),
            )
        )
    return out


def _adds_nothing(window: list[str], known_lines: set[str]) -> bool:
    """A copy of lines the prompt already shows (a duplicated file, a sample ending where the cursor is) only
    teaches the model to repeat them: a similar window is worth its tokens for the lines it adds."""
    shown = [line.strip() for line in window if line.strip()]
    new = sum(line not in known_lines for line in shown)
    return new * NEW_LINES_SHARE < len(shown)
