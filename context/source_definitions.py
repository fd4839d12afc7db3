"""Retrieval source 1: definitions of the symbols used around the cursor, found in other files.

Identifiers near the cursor (weighted by closeness, the cursor line first) are resolved the way a reader would:
a name the file imports -> the definition in the file the import points to (following one re-export hop, e.g.
a package ``__init__`` or an ``index.ts``); ``alias.name`` on an imported module -> ``name`` in that module;
any other name -> definitions in imported files, then in the same folder (Go packages, C headers), then
anywhere in the workspace if the name is rare enough to be unambiguous.
"""

from __future__ import annotations

from .gathering import Gathering, resolve_import
from .imports import Import
from .index import FileRecord
from .languages import language_named
from .ranking import Candidate
from .symbols import SMALL_DEFINITION_LINES, Definition, identifiers_between

LINES_BEFORE = 8
LINES_AFTER = 2
MAX_PER_NAME = 2
MAX_CANDIDATES = 12
MIN_NAMES = 4  # looked up even when the time is up: the names closest to the cursor matter most
MAX_AMBIGUOUS = 4
MAX_IMPORTED_NAMES = 24
IMPORTED_SCORE = 0.3  # a name defined in more places than this, with no import evidence, says nothing


def _nearby_identifiers(g: Gathering) -> list[tuple[str, float, str]]:
    """(name, weight, qualifier) for identifiers around the cursor; qualifier is the name before a '.'."""
    if g.spec is None or g.tree is None:
        return []
    src = g.source
    start = g.cursor_byte
    for _ in range(LINES_BEFORE + 1):
        start = src.rfind(b"\n", 0, max(start - 1, 0)) if start > 0 else 0
        if start <= 0:
            start = 0
            break
    end = g.cursor_byte
    for _ in range(LINES_AFTER + 1):
        found = src.find(b"\n", end + 1)
        end = len(src) if found < 0 else found
    found_ids = identifiers_between(g.spec, g.tree, start, end)
    best: dict[str, tuple[float, str]] = {}
    previous: tuple[str, int] | None = None
    for name, byte in found_ids:
        if len(name) < 2:
            previous = (name, byte + len(name))
            continue
        distance = src.count(b"\n", min(byte, g.cursor_byte), max(byte, g.cursor_byte))
        weight = 1.0 / (1.0 + 0.25 * distance) if byte <= g.cursor_byte else 0.5 / (1.0 + distance)
        qualifier = ""
        if previous is not None:
            between = src[previous[1]:byte].strip()
            if between in (b".", b"->", b"::", b"?."):
                qualifier = previous[0]
        if name not in best or best[name][0] < weight:
            best[name] = (weight, qualifier)
        previous = (name, byte + len(name.encode()))
    return sorted(((n, w, q) for n, (w, q) in best.items()), key=lambda item: (-item[1], item[0]))


def _bindings(imports: list[Import]) -> dict[str, list[tuple[Import, str]]]:
    out: dict[str, list[tuple[Import, str]]] = {}
    for imp in imports:
        for local, original in imp.names:
            out.setdefault(local, []).append((imp, original))
    return out


def _defined_in(g: Gathering, name: str, files: list[str], hops: int = 1) -> list[tuple[FileRecord, Definition]]:
    """Definitions of ``name`` in ``files``; if none, follow the files' own imports of ``name`` once (re-exports)."""
    wanted = set(files)
    found = [(r, d) for r, d in g.index.definitions_named(name) if r.key in wanted and not d.parent]
    if found or hops == 0:
        return found
    for key in files:
        record = g.index.files.get(key)
        if record is None:
            continue
        for imp in record.imports:
            if g.expired():
                break
            if any(original == name for _, original in imp.names) or not imp.names:
                dialect = language_named(record.language).import_dialect
                files = resolve_import(g.index, imp, dialect, record.key, record.folder, record.rel, record)
                found += _defined_in(g, name, files, hops - 1)
        if found or g.expired():
            break
    return found


def _candidate(g: Gathering, record: FileRecord, definition: Definition, score: float) -> Candidate:
    return Candidate(record.key, g.uri_of(record.key), g.shown_path(record, record.key), definition.start_line,
                     definition.end_line, definition.summary, "definition", score,
                     excerpt=definition.end_line - definition.start_line <= SMALL_DEFINITION_LINES)


def definition_candidates(g: Gathering) -> list[Candidate]:
    bindings = _bindings(g.imports)
    local_names = {d.name for d in g.record.definitions} if g.record is not None else set()
    imported_files: set[str] = set()
    for imp in g.imports:
        imported_files.update(g.resolve(imp))
    here = g.rel.rpartition("/")[0]
    out: list[Candidate] = []
    seen: set[str] = set()
    for rank, (name, weight, qualifier) in enumerate(_nearby_identifiers(g)):
        if len(out) >= MAX_CANDIDATES or (rank >= MIN_NAMES and g.expired()):
            break
        seen.add(name)
        found: list[tuple[FileRecord, Definition, float]] = []
        if name in bindings:
            for imp, original in bindings[name]:
                if original not in ("*", "default"):
                    found += [(r, d, 1.0) for r, d in _defined_in(g, original, g.resolve(imp))]
        elif qualifier in bindings:
            for imp, original in bindings[qualifier]:
                if original == "*":
                    files = g.resolve(imp)
                    found += [(r, d, 0.95) for r, d in g.index.definitions_named(name) if r.key in files]
        elif name not in local_names:
            everywhere = [(r, d) for r, d in g.index.definitions_named(name) if r.key != g.key]
            tiers = []
            for record, definition in everywhere:
                if record.key in imported_files:
                    tiers.append((record, definition, 0.8))
                elif record.folder == g.folder and record.rel.rpartition("/")[0] == here:
                    tiers.append((record, definition, 0.6))
                elif len(everywhere) <= MAX_AMBIGUOUS:
                    tiers.append((record, definition, 0.5 / len(everywhere) ** 0.5))
            found = tiers
            if qualifier:  # obj.method: the receiver's type is unknown, so any same-named member is a guess
                found = [(r, d, s * 0.7) for r, d, s in found]
        found.sort(key=lambda item: (-item[2], item[0].key, item[1].start_line))
        for record, definition, score in found[:MAX_PER_NAME]:
            out.append(_candidate(g, record, definition, score * weight))
    return out + _imported_definitions(g, bindings, seen)


def _imported_definitions(g: Gathering, bindings: dict[str, list[tuple[Import, str]]],
                          seen: set[str]) -> list[Candidate]:
    """Definitions of names the file imports but that are not near the cursor: what the next line may call.
    Names the file uses more often come first."""
    text = g.request.text[g.request.prefix_start:g.request.suffix_end if g.request.suffix_end >= 0 else None]
    names = sorted((name for name in bindings if name not in seen),
                   key=lambda name: (-min(text.count(name), 5), name))
    out: list[Candidate] = []
    for rank, name in enumerate(names[:MAX_IMPORTED_NAMES]):
        if rank >= MIN_NAMES and g.expired():
            break
        uses = min(text.count(name), 4)
        for imp, original in bindings[name]:
            if original in ("*", "default"):
                continue
            for record, definition in _defined_in(g, original, g.resolve(imp))[:1]:
                out.append(_candidate(g, record, definition, IMPORTED_SCORE + 0.05 * max(uses, 0)))
    return out
