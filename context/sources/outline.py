"""Retrieval source 2: the outline of the current file around the cursor.

From the live syntax tree: the signatures of the functions and classes enclosing the cursor; for an enclosing
class, its outline from the index (its members' signatures, so ``self.`` completions know them); and the file's
import block. Whatever is already visible in the prompt window is dropped later by the ranking.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from ..gathering import Gathering
from ..ranking import Candidate
from ..syntax.languages import language_named
from ..syntax.symbols import CLASS_LIKE, FUNCTION_LIKE, Definition

_SCOPE = re.compile(
    r"(^|_)(function|method|class|struct|interface|trait|impl|module|namespace|enum|object|record|"
    r"constructor|protocol)(_definition|_declaration|_item|_specifier)?$"
)
_CLASS_SCOPE = re.compile(r"(class|struct|interface|trait|impl|module|enum|object|record|protocol)")
MAX_HEADER_LINES = 8
MAX_IMPORT_LINES = 40
MAX_CLASS_SIGNATURE_CHARS = 1000  # a large enclosing class: its first lines as they are, then its other
MAX_CLASS_OUTLINE_CHARS = 1600  # methods by name, so the budget still reaches what it inherits and calls


def _enclosing_scopes(node: Node | None) -> list[Node]:
    scopes = []
    while node is not None:
        if _SCOPE.search(node.type) and node.parent is not None:
            scopes.append(node)
        node = node.parent
    return scopes


def _signature_rows(node: Node) -> tuple[int, int]:
    start = node.start_point.row
    body = node.child_by_field_name("body")
    if body is None:
        return start, start + 1
    end = body.start_point.row + (1 if body.start_point.row == start or (body.text or b"")[:1] == b"{" else 0)
    return start, max(end, start + 1)


def _compact(g: Gathering, cls: Definition) -> str:
    """A class summary within MAX_CLASS_OUTLINE_CHARS: past MAX_CLASS_SIGNATURE_CHARS of its lines, the names of
    its methods not shown yet, on one comment line (what an IDE's member list would offer)."""
    text = cls.summary
    if len(text) <= MAX_CLASS_OUTLINE_CHARS or g.record is None:
        return text
    kept: list[str] = []
    size = 0
    for line in text.split("\n"):
        size += len(line) + 1
        if size > MAX_CLASS_SIGNATURE_CHARS:
            break
        kept.append(line)
    shown = "\n".join(kept)
    size = len(shown)
    names: list[str] = []
    for d in g.record.definitions:
        if d.parent == cls.name and d.kind in FUNCTION_LIKE and d.name not in names and d.name not in shown:
            size += len(d.name) + 2
            if size > MAX_CLASS_OUTLINE_CHARS:
                break
            names.append(d.name)
    comment = language_named(g.record.language).line_comment
    return shown + (f"\n    {comment} also: " + ", ".join(names) if names else "")


def outline_candidates(g: Gathering) -> list[Candidate]:
    if g.tree is None:
        return []
    out: list[Candidate] = []
    node = g.tree.root_node.descendant_for_byte_range(g.cursor_byte, g.cursor_byte)
    classes = {(d.name, d.start_line): d for d in g.record.definitions if d.kind in CLASS_LIKE} if g.record else {}
    for depth, scope in enumerate(_enclosing_scopes(node)):
        if depth > 0 and g.expired():
            break
        start, end = _signature_rows(scope)
        score = max(0.3, 1.0 - 0.15 * depth)
        name_node = scope.child_by_field_name("name")
        name = (name_node.text or b"").decode("utf-8", "replace") if name_node is not None else ""
        summary = None
        if _CLASS_SCOPE.search(scope.type) and name:
            # the indexed definition may start a few lines earlier (decorators, doc comments)
            summary = next((d for (n, s), d in classes.items() if n == name and abs(s - start) <= 20), None)
        if summary is not None:
            text, first = _compact(g, summary), summary.start_line
            end = max(end, summary.header_end)
        else:
            first = start
            text = "\n".join(g.lines[start : min(end, start + MAX_HEADER_LINES)])
        out.append(Candidate(g.key, g.request.uri, g.rel, first, end, text, "outline", score, excerpt=summary is None))
    if g.imports:
        first = min(imp.line for imp in g.imports)
        last = max(imp.line for imp in g.imports)
        # the last statement may continue on indented lines or up to a closing bracket
        while (
            last + 1 < len(g.lines)
            and last - first < MAX_IMPORT_LINES
            and g.lines[last + 1][:1] in (" ", "\t", ")", "}")
        ):
            last += 1
        if last < g.window[0] and last - first < MAX_IMPORT_LINES:
            text = "\n".join(g.lines[first : last + 1])
            out.append(Candidate(g.key, g.request.uri, g.rel, first, last + 1, text, "outline", 0.6))
    return out
