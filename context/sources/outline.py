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
from ..syntax.symbols import CLASS_LIKE

_SCOPE = re.compile(
    r"(^|_)(function|method|class|struct|interface|trait|impl|module|namespace|enum|object|record|"
    r"constructor|protocol)(_definition|_declaration|_item|_specifier)?$"
)
_CLASS_SCOPE = re.compile(r"(class|struct|interface|trait|impl|module|enum|object|record|protocol)")
MAX_HEADER_LINES = 8
MAX_IMPORT_LINES = 40


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
            text, first = summary.summary, summary.start_line
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
