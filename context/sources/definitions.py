"""Retrieval source 1: definitions of the symbols used around the cursor, found in other files.

First what the cursor itself refers to (``references.reference_at``): for ``obj.method(`` the definition of
``method`` in the type of ``obj`` (or its bases), for ``pkg.`` / ``x.me`` the outline of the module or type. Then
identifiers near the cursor (weighted by closeness, the cursor line first), resolved the way a reader would:
a name the file imports -> the definition in the file the import points to (following re-exports, e.g. a
package ``__init__`` or an ``index.ts``); ``qualifier.name`` -> ``name`` in the module or type the qualifier
denotes (``resolution.Resolver``); any other name -> definitions in imported files, then in the same folder (Go
packages, C headers), then anywhere in the workspace if the name is rare enough to be unambiguous. One-line
attribute declarations reached only by a guess are demoted: they rarely say what the next line needs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from ..gathering import Gathering
from ..index.repo_index import FileRecord
from ..ranking import Candidate
from ..resolution.imports import Import, is_relative
from ..resolution.outlines import module_outline, type_outline
from ..resolution.references import Reference, reference_at
from ..resolution.resolver import IMPLICIT_THIS, Resolver
from ..resolution.scopes import Found
from ..resolution.signatures import signature
from ..syntax.languages import is_string_or_comment, language_named
from ..syntax.symbols import CLASS_LIKE, SMALL_DEFINITION_LINES, Definition, identifiers_between
from .typed_name import typed_name_candidates
from .used_callees import used_callee_candidates

LINES_BEFORE = 8
LINES_AFTER = 2
NEARBY_BYTES_BEFORE, NEARBY_BYTES_AFTER = 4000, 1000  # bounds of those lines
MAX_PER_NAME = 2
MAX_CANDIDATES = 12
MIN_NAMES = 4  # looked up even when the time is up: the names closest to the cursor matter most
MAX_AMBIGUOUS = 4
MAX_IMPORTED_NAMES = 24
UNUSED_IMPORT_SCORE = 0.6
IMPORTED_SCORE = 0.3  # a name defined in more places than this, with no import evidence, says nothing
GUESSED_FIELD = 0.3  # factor for a one-line field/variable reached by a guess (same-named member elsewhere)
OUTLINE_AFTER_MEMBER = 0.35  # the outline of the callee's type once the member is typed: after the definitions
CURSOR_LOOKBACK = 800  # characters before the cursor read to find what it refers to
CURSOR_SCORE = 1.3  # what the cursor refers to ranks above everything merely near it
CURSOR_EVIDENCE = 0.4
FOUND_MEMBER_FLOOR = 0.8  # a member typed in full and found in (one of) the qualifier's types
MAX_BASE_DEPTH = 3
MAX_BASES = 6
_UNTYPED_CAST = re.compile(r"\bas\s+(?:any|unknown)\s*\)\s*(?:\?\.|\.)\s*[\w$]*$")
NAMED_TYPE_LINES = 12  # a large type named near the cursor (not what it calls): its header and first members
BY_NAME_MEMBER = 0.7  # ``x.name(`` whose qualifier resolved to nothing that has it: ``name`` wherever defined  # raises a found-by-folder (0.6) or by-import (0.8) definition of the cursor's name to 1.0


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
    # a line of minified code can be megabytes long: each name's distance is counted over the bytes between
    start, end = max(start, g.cursor_byte - NEARBY_BYTES_BEFORE), min(end, g.cursor_byte + NEARBY_BYTES_AFTER)
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
            between = src[previous[1] : byte].strip()
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


def _candidate(g: Gathering, record: FileRecord, definition: Definition, score: float, whole: bool = True) -> Candidate:
    """``whole`` False: a large type merely named near the cursor is shown by its header and first members only,
    so it does not take the budget from what the next line is more likely to call."""
    excerpt = definition.end_line - definition.start_line <= SMALL_DEFINITION_LINES
    text = definition.summary
    if not whole and not excerpt and definition.kind in CLASS_LIKE:
        text = _shortened(record, definition)
    return Candidate(
        record.key,
        g.uri_of(record.key),
        g.shown_path(record, record.key),
        definition.start_line,
        definition.end_line,
        text,
        "definition",
        score,
        excerpt=excerpt,
    )


def _shortened(record: FileRecord, definition: Definition) -> str:
    lines = signature(definition).split("\n")  # from the header on: the doc comment goes
    if len(lines) <= NAMED_TYPE_LINES:
        return "\n".join(lines)
    last = definition.summary.rsplit("\n", 1)[-1]
    closing = [last] if last.strip() in ("}", "};", "end") else []
    indent = lines[1][: len(lines[1]) - len(lines[1].lstrip())]
    more = f"{indent}{language_named(record.language).line_comment} ..."
    return "\n".join(lines[:NAMED_TYPE_LINES] + [more] + closing)


def _is_one_line_attribute(definition: Definition) -> bool:
    return definition.kind in ("field", "variable") and definition.end_line - definition.start_line <= 1


def _unresolved_relative(g: Gathering, imports: list[tuple[Import, str]]) -> bool:
    """The name comes from the workspace's own code (``use super::x::name``, ``from .x import name``) but its
    import led nowhere: our resolution failed, so the name is looked up as if not imported."""
    dialect = g.spec.import_dialect if g.spec else ""
    return all(is_relative(imp, dialect) for imp, _ in imports)


def _best(found: list[Found], limit: int = MAX_PER_NAME) -> list[Found]:
    ranked = sorted(found, key=lambda f: (-f.confidence, f.record.key, f.definition.start_line))
    out: list[Found] = []
    for f in ranked:
        if not any(o.record.key == f.record.key and o.definition.start_line == f.definition.start_line for o in out):
            out.append(f)
    return out[:limit]


def cursor_candidates(g: Gathering, resolver: Resolver) -> tuple[list[Candidate], set[str]]:
    """What the cursor refers to: the member's definition in the resolved type or module once it is typed and
    called; the outline of the type or module right after the qualifier or inside a partly typed member name.
    Also returns the names it resolved, so the nearby-identifier pass does not guess them again."""
    if _in_string_or_comment(g):
        return [], set()
    start = max(0, g.request.offset - CURSOR_LOOKBACK)
    ref = reference_at(g.request.text[start : g.request.offset])
    if ref is None or not ref.chain:
        return _implicit_member(g, resolver, ref), set()
    scopes = resolver.chain(ref.chain)
    out: list[Candidate] = []
    members: list[Found] = []
    if ref.member:
        members = [f for scope in scopes for f in resolver.members(scope, ref.member)]
    for rank, f in enumerate(_best(members)):
        # the typed member found in what the qualifier denotes: above anything merely near the cursor
        confidence = max(FOUND_MEMBER_FLOOR, f.confidence) if rank == 0 else f.confidence
        out.append(_candidate(g, f.record, f.definition, CURSOR_SCORE * min(1.0, confidence)))
    external = any(s.kind == "module" and not s.files for s in scopes)  # a package outside the workspace
    if not members and ref.member and ref.called and not external:
        out += _member_by_name(g, ref.member)
    if not scopes:
        return out, ({ref.member} if out else set())
    # once the member is called its outline is background; while it is typed, a longer name may be meant
    outline_score = OUTLINE_AFTER_MEMBER if members and ref.called else 1.0
    untyped = bool(_UNTYPED_CAST.search(g.request.text, start, g.request.offset))  # (x as any).: privates too
    for rank, scope in enumerate(scopes):
        score = outline_score * min(1.0, scope.confidence) * 0.9**rank
        typed = "" if ref.called else ref.member
        if scope.kind == "type":
            inherited = resolver.ancestors(scope, MAX_BASE_DEPTH, MAX_BASES) if not members or not ref.called else []
            out += type_outline(resolver, scope, score, typed, inherited, everything=untyped)
        else:
            out += module_outline(resolver, scope, typed, score)
    return out, ({ref.member} if members else set()) | ({ref.chain[-1]} if len(ref.chain) == 1 else set())


def _member_by_name(g: Gathering, name: str) -> list[Candidate]:
    """``x.name(`` where what ``x`` denotes is unknown or lacks ``name`` (a parse error, an object built at run
    time): the definitions of ``name`` in the workspace, if only a few, members before top-level ones."""
    language = g.spec.name if g.spec else ""
    found = [(r, d) for r, d in g.index.definitions_named(name) if r.key != g.key and r.language == language]
    if not found or len(found) > MAX_AMBIGUOUS:
        return []
    found.sort(key=lambda item: (not item[1].parent, item[0].key, item[1].start_line))
    score = CURSOR_SCORE * BY_NAME_MEMBER / len(found) ** 0.5
    return [_candidate(g, r, d, score) for r, d in found[:MAX_PER_NAME]]


def _in_string_or_comment(g: Gathering) -> bool:
    """Prose: ``if any.`` in a docstring is not a member access."""
    if g.tree is None or g.cursor_byte == 0:
        return False
    node = g.tree.root_node.descendant_for_byte_range(g.cursor_byte - 1, g.cursor_byte - 1)
    for _ in range(3):
        if node is None:
            return False
        if is_string_or_comment(node.type):
            return True
        node = node.parent
    return False


def _implicit_member(g: Gathering, resolver: Resolver, ref: Reference | None) -> list[Candidate]:
    """A bare call inside a class of a language with an implicit ``this`` (Java, C#, Kotlin...) may be one of
    the class's members, its own or inherited."""
    if ref is None or not ref.called or not ref.member or g.spec is None or g.spec.name not in IMPLICIT_THIS:
        return []
    if g.record is not None and any(d.name == ref.member and not d.parent for d in g.record.definitions):
        return []
    found = resolver.implicit_members(ref.member)
    return [_candidate(g, f.record, f.definition, CURSOR_SCORE * min(1.0, f.confidence)) for f in _best(found)]


def _cursor_reference(g: Gathering) -> Reference | None:
    start = max(0, g.request.offset - CURSOR_LOOKBACK)
    return reference_at(g.request.text[start : g.request.offset])


def definition_candidates(g: Gathering) -> list[Candidate]:
    resolver = Resolver(g)
    out, seen = cursor_candidates(g, resolver) if g.spec is not None else ([], set())
    bindings = _bindings(g.imports)
    local_names = {d.name for d in g.record.definitions} if g.record is not None else set()
    for record, definition, score in typed_name_candidates(g, resolver, bindings, local_names):
        out.append(_candidate(g, record, definition, score, whole=False))
        seen.add(definition.name)
    found_count = len(out)
    ref = _cursor_reference(g)
    cursor_name = ref.member if ref is not None and not ref.chain else ""  # ranks before names merely near it
    for rank, (name, weight, qualifier) in enumerate(_nearby_identifiers(g)):
        if found_count >= MAX_CANDIDATES or (rank >= MIN_NAMES and g.expired()):
            break
        if name in seen:
            continue
        seen.add(name)
        if name == cursor_name and not qualifier:
            weight = CURSOR_SCORE
        found: list[tuple[FileRecord, Definition, float]] = []
        if name in bindings:
            here_ctx = resolver.here()
            for imp, original in bindings[name]:
                found += [(r, d, 1.0) for r, d in resolver.imported(here_ctx, imp, original, name)]
        elif qualifier and qualifier not in local_names:
            found = [
                (f.record, f.definition, f.confidence)
                for scope in resolver.chain((qualifier,))
                for f in resolver.members(scope, name)
            ]
        if (
            not found
            and name not in local_names
            and (name not in bindings or _unresolved_relative(g, bindings[name]))
            and (not qualifier or qualifier not in bindings)
        ):
            everywhere = [(r, d) for r, d in g.index.definitions_named(name) if r.key != g.key]
            imported = g.imported_files() if everywhere else set()
            for record, definition in everywhere:
                if record.key in imported:
                    found.append((record, definition, 0.8))
                elif g.in_same_folder(record):
                    found.append((record, definition, 0.6))
                elif len(everywhere) <= MAX_AMBIGUOUS:
                    found.append((record, definition, 0.5 / len(everywhere) ** 0.5))
            if qualifier:  # obj.method: the receiver's type is unknown, so any same-named member is a guess
                found = [
                    (r, d, s * (0.7 if not _is_one_line_attribute(d) else 0.7 * GUESSED_FIELD)) for r, d, s in found
                ]
            elif any(d.parent for _, d, _ in found):
                found = [
                    (r, d, s * GUESSED_FIELD) if d.parent and _is_one_line_attribute(d) else (r, d, s)
                    for r, d, s in found
                ]
        if weight == CURSOR_SCORE:  # what the cursor calls: same folder or imported file is evidence enough
            found = [(r, d, min(1.0, s + CURSOR_EVIDENCE)) for r, d, s in found]
        found.sort(key=lambda item: (-item[2], item[0].key, item[1].start_line))
        for record, definition, score in found[:MAX_PER_NAME]:
            out.append(_candidate(g, record, definition, score * weight, whole=weight == CURSOR_SCORE))
            found_count += 1
    member_access = ref is not None and bool(ref.chain) and not ref.called  # ``x.`` has its outline instead
    # what the code around calls, by signature line (not again as an imported definition)
    used, listed = used_callee_candidates(g, resolver, seen) if not member_access else ([], set())
    return out + used + _imported_definitions(g, resolver, bindings, seen | listed)


# (file key, name) -> (offset, offset, text length): two occurrences of an imported name seen in that file, the
# proof that it is used beyond its import; re-checked on the next request's text instead of scanning it again
_USE_PROOFS: dict[tuple[str, str], tuple[int, int, int]] = {}
MAX_PROOFS = 20_000
UNUSED_SCAN_S = 0.001  # a cold scan of a long file for every imported name stops after this (or a quarter of the
UNUSED_SCAN_SHARE = 0.25  # time left, if more); names not scanned count as used


def _proof_holds(text: str, name: str, proof: tuple[int, int, int]) -> bool:
    """Both occurrences are still there, in place or moved by the edit since (one insertion or deletion)."""
    delta = len(text) - proof[2]
    found = []
    for offset in proof[:2]:
        at = next((o for o in (offset, offset + delta) if o >= 0 and text.startswith(name, o)), None)
        if at is None:
            return False
        found.append(at)
    return abs(found[0] - found[1]) >= len(name)


def _unused_names(g: Gathering, names: Iterable[str]) -> set[str]:
    """Names that occur at most once in the text (only in their import statement)."""
    text, key = g.request.text, g.key
    now = time.perf_counter()
    stop = now + max(UNUSED_SCAN_S, UNUSED_SCAN_SHARE * (g.deadline - now))
    if len(_USE_PROOFS) > MAX_PROOFS:
        _USE_PROOFS.clear()
    unused: set[str] = set()
    for name in names:
        proof = _USE_PROOFS.get((key, name))
        if proof is not None and _proof_holds(text, name, proof):
            continue
        if time.perf_counter() > stop:
            continue
        first = text.find(name)
        second = text.find(name, first + len(name)) if first >= 0 else -1
        if second < 0:
            unused.add(name)
        else:
            _USE_PROOFS[(key, name)] = (first, second, len(text))
    return unused


def _imported_definitions(
    g: Gathering, resolver: Resolver, bindings: dict[str, list[tuple[Import, str]]], seen: set[str]
) -> list[Candidate]:
    """Definitions of names the file imports but that are not near the cursor: what the next line may call.
    A name imported but used nowhere else yet comes first (it was imported to be used, likely soon), then names
    the file uses more often."""
    text = g.request.text[g.request.prefix_start : g.request.suffix_end if g.request.suffix_end >= 0 else None]
    unused = _unused_names(g, bindings)
    names = sorted(
        (name for name in bindings if name not in seen),
        key=lambda name: (name not in unused, -min(text.count(name), 5), name),
    )
    out: list[Candidate] = []
    for rank, name in enumerate(names[:MAX_IMPORTED_NAMES]):
        if rank >= MIN_NAMES and g.expired():
            break
        uses = min(text.count(name), 4)
        score = UNUSED_IMPORT_SCORE if name in unused else IMPORTED_SCORE + 0.05 * uses
        for imp, original in bindings[name]:
            for record, definition in resolver.imported(resolver.here(), imp, original, name)[:1]:
                out.append(_candidate(g, record, definition, score, whole=False))
    return out
