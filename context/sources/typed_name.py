"""The name being typed at the cursor: ``luaH_get|``, ``parse_|``, ``newCl|``. Most completion requests arrive
while a name is half typed; what it can become is a short list an IDE would offer, and the model completes it
better with their signatures in view. The candidates are the workspace's top-level definitions whose names start
with what is typed, in the current file's language, ranked by the evidence the file gives: imported by name,
already used in the file, defined in a file it imports, in its folder; then how much the repository uses them.
Member names after ``x.`` are the qualifier's outline's job (``definitions.cursor_candidates``).
"""

from __future__ import annotations

import re

from ..gathering import Gathering, line_start_within
from ..index.repo_index import HEAD_CHARS, FileRecord
from ..resolution.imports import Import
from ..resolution.outlines import has_private_modifier, members_of
from ..resolution.references import COMMENT_STARTS
from ..resolution.resolver import IMPLICIT_THIS, Resolver
from ..syntax.symbols import Definition

MAX_NAMES = 3  # definitions shown for one typed prefix
LINE_LOOKBACK = 200  # characters of the cursor's line read
USE_SCAN_CHARS = 100_000  # each side of the cursor searched for uses of the names (a 20 MB file is not read whole)
MAX_MATCHES = 400  # names with the prefix weighed by evidence; past this, only the file's own evidence counts
TYPED_SCORE = 1.2  # what the cursor is typing: next to what it calls (CURSOR_SCORE 1.3), above names near it
IMPORTED_NAME, USED_IN_FILE, IN_IMPORTED_FILE, SAME_FOLDER, ELSEWHERE = 1.0, 0.9, 0.8, 0.75, 0.4
INHERITED = 0.9  # (Java, C#, Kotlin...) a member of the enclosing class's bases: ``this.`` is implicit
MAX_BASE_LEVELS = 3
_WORD = re.compile(r"[\w$]+$")
_SEPARATOR = re.compile(r"(?:\?\.|\.|::|->)\s*$")
_DECLARING = re.compile(
    r"\b(?:def|class|function|func|fn|struct|enum|trait|interface|type|let|const|var|mut|val|package|import|"
    r"from|use|mod|namespace|goto|#\s*define)\s+$"
)


def typed_prefix(g: Gathering) -> str:
    """The identifier typed right before the cursor, if the user is naming something that exists: not a member
    after a separator, not a new name being declared, not in a string or comment, at least HEAD_CHARS long."""
    text, offset = g.request.text, g.request.offset
    line_start = line_start_within(text, offset, LINE_LOOKBACK)
    match = _WORD.search(text, line_start, offset)
    if match is None or len(match.group()) < HEAD_CHARS or match.group()[0].isdigit():
        return ""
    head = text[line_start : match.start()]
    if _SEPARATOR.search(head) or _DECLARING.search(head) or head.lstrip().startswith(COMMENT_STARTS):
        return ""
    return match.group()


def typed_name_candidates(
    g: Gathering, resolver: Resolver, bindings: dict[str, list[tuple[Import, str]]], local_names: set[str]
) -> list[tuple[FileRecord, Definition, float]]:
    """Definitions the name being typed may become, with their scores, best first."""
    prefix = typed_prefix(g) if g.spec is not None else ""
    if not prefix:
        return []
    language = g.spec.name if g.spec else ""
    text, offset = g.request.text, g.request.offset
    around = re.compile(rf"(?<![\w$]){re.escape(prefix)}[\w$]*")
    scanned = around.finditer(text, max(0, offset - USE_SCAN_CHARS), offset + USE_SCAN_CHARS)
    used = {m.group() for m in scanned if m.end() != offset}  # not the word being typed
    names = g.index.names_starting(prefix)
    if len(names) > MAX_MATCHES:
        names = [n for n in names if n in used or n in bindings]
    weighed: list[tuple[float, str, FileRecord, Definition]] = []
    for name in names:
        if name in local_names:
            continue  # the current file's own: in the prompt already
        if name in bindings:
            found = [
                (r, d, IMPORTED_NAME)
                for imp, original in bindings[name]
                for r, d in resolver.imported(resolver.here(), imp, original, name)
            ]
        else:
            base = USED_IN_FILE if name in used else 0.0
            found = []
            for record, definition in g.index.definitions_named(name):
                if definition.parent or record.key == g.key or record.language != language:
                    continue
                if record.key in g.imported_files():
                    evidence = IN_IMPORTED_FILE
                elif g.in_same_folder(record):
                    evidence = SAME_FOLDER
                else:
                    evidence = ELSEWHERE
                found.append((record, definition, max(base, evidence)))
        if found:
            record, definition, evidence = max(found, key=lambda f: (f[2], -f[1].start_line))
            weighed.append((evidence, name, record, definition))
    weighed += _inherited_members(resolver, prefix, local_names)
    if not weighed:
        return []
    usage = g.index.usage(name for _, name, _, _ in weighed) if len(weighed) > MAX_NAMES else {}
    weighed.sort(key=lambda w: (-w[0], -usage.get(w[1], 0), len(w[1]), w[1]))
    return [
        (record, definition, TYPED_SCORE * evidence * 0.85**rank)
        for rank, (evidence, _, record, definition) in enumerate(weighed[:MAX_NAMES])
    ]


def _inherited_members(
    resolver: Resolver, prefix: str, local_names: set[str]
) -> list[tuple[float, str, FileRecord, Definition]]:
    """Where a bare name may be ``this.name`` (Java, C#...), the members of the enclosing class's bases (a few
    levels up) that start with the prefix; its own members are in the current file."""
    if resolver.here().language not in IMPLICIT_THIS:
        return []
    out: list[tuple[float, str, FileRecord, Definition]] = []
    seen: set[str] = set(local_names)
    for scope in [base for own in resolver.enclosing() for base in resolver.ancestors(own, MAX_BASE_LEVELS)]:
        if scope.record is None or scope.definition is None:
            continue
        for record, definition in members_of(resolver, scope.record, scope.definition, everything=True):
            name = definition.name
            if name.startswith(prefix) and name not in seen and not has_private_modifier(definition):
                seen.add(name)
                out.append((INHERITED * min(1.0, scope.confidence), name, record, definition))
    return out
