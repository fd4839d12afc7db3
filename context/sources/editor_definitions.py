"""Retrieval source 5: definitions the editor's own language server reported for the symbols around the cursor.

The editor (``qwen/editorDefinitions``) sends locations only; they are kept per open document (the latest set,
bounded) and shown here the way the definitions source shows its own finds: the innermost definition enclosing
each location, from the index, or a few lines from the location when the file has no indexed definition there.
A location in a file the privacy policy keeps out, or outside every workspace folder, is never read. What the
editor's server knows comes from real type inference (generic containers, closures, deep inheritance), so it ranks
with what the cursor refers to; a definition our own resolution found too is shown once (``ranking.dedup``).
"""

from __future__ import annotations

import posixpath
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ..base import EditorDefinition
from ..documents import LineCache, OpenDocuments
from ..gathering import Gathering
from ..ranking import Candidate
from ..syntax.symbols import SMALL_DEFINITION_LINES, Definition
from ..uris import uri_to_key

SOURCE = "editor_definition"
MAX_DOCUMENTS = 64  # documents whose latest set is kept (open documents only; the oldest set goes first)
MAX_DEFINITIONS = 16  # per document: the editor lists the symbols closest to the cursor first
EDITOR_SCORE = 1.2  # with what the cursor refers to (definitions.CURSOR_SCORE is 1.3), above names merely nearby
RANK_DECAY = 0.92
MAX_LINE_DISTANCE = 40  # the cursor moved this far from where the set was asked for: it is about other code
FALLBACK_LINES = 12  # shown from the location when the file has no indexed definition enclosing it


@dataclass(frozen=True)
class EditorDefinitionSet:
    line: int  # the cursor line the editor asked its language server at
    definitions: tuple[EditorDefinition, ...]


class EditorDefinitionStore:
    """The latest set per document key; thread-safe (set on the event loop, read while gathering)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sets: OrderedDict[str, EditorDefinitionSet] = OrderedDict()

    def put(self, key: str, line: int, definitions: list[EditorDefinition]) -> None:
        with self._lock:
            self._sets.pop(key, None)
            if definitions:
                self._sets[key] = EditorDefinitionSet(line, tuple(definitions[:MAX_DEFINITIONS]))
                while len(self._sets) > MAX_DOCUMENTS:
                    self._sets.popitem(last=False)

    def get(self, key: str) -> EditorDefinitionSet | None:
        with self._lock:
            return self._sets.get(key)

    def drop(self, key: str) -> None:
        with self._lock:
            self._sets.pop(key, None)


def _enclosing(definitions: list[Definition], line: int) -> Definition | None:
    inside = [d for d in definitions if d.start_line <= line < d.end_line]
    return min(inside, key=lambda d: (d.end_line - d.start_line, -d.start_line), default=None)


def editor_definition_candidates(
    g: Gathering,
    store: EditorDefinitionStore,
    docs: OpenDocuments,
    line_cache: LineCache,
    readable: Callable[[str], bool],
) -> list[Candidate]:
    """``readable(key)``: the file is inside a workspace folder and the privacy policy lets it into a prompt."""
    found = store.get(g.key)
    if found is None:
        return []
    distance = abs(g.cursor_line - found.line)
    if distance > MAX_LINE_DISTANCE:
        return []
    closeness = 1.0 / (1.0 + 0.05 * distance)
    out: list[Candidate] = []
    seen: set[tuple[str, int]] = set()
    for rank, location in enumerate(found.definitions):
        if out and g.expired():
            break
        key = uri_to_key(location.uri)
        key = posixpath.normpath(key) if key.startswith("/") else key  # no way out of a folder through '..'
        if not readable(key):
            continue
        score = EDITOR_SCORE * closeness * RANK_DECAY**rank
        candidate = _candidate(g, key, location, score, docs, line_cache)
        if candidate is not None and (key, candidate.start_line) not in seen:
            seen.add((key, candidate.start_line))
            out.append(candidate)
    return out


def _candidate(
    g: Gathering, key: str, location: EditorDefinition, score: float, docs: OpenDocuments, line_cache: LineCache
) -> Candidate | None:
    record = g.index.files.get(key)
    uri = g.uri_of(key)
    path = g.shown_path(record, key)
    definition = _enclosing(record.definitions, location.line) if record is not None else None
    if definition is not None:
        small = definition.end_line - definition.start_line <= SMALL_DEFINITION_LINES
        return Candidate(
            key, uri, path, definition.start_line, definition.end_line, definition.summary, SOURCE, score, small
        )
    doc = docs.get(key)
    if doc is not None:
        lines: list[str] | None = g.lines if key == g.key else doc.lines
    elif key.startswith("/"):
        lines = line_cache.lines(key, record.digest if record is not None else "")
    else:
        lines = None
    if not lines or not 0 <= location.line < len(lines):
        return None
    end = min(len(lines), location.line + FALLBACK_LINES)
    return Candidate(key, uri, path, location.line, end, "\n".join(lines[location.line : end]), SOURCE, score)
