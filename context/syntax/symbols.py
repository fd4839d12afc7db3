"""Definitions, imports and nearby identifiers of one parsed file.

``extract_symbols`` runs the language's queries over a syntax tree and returns what the index stores per file:
each definition with its span, the span of its signature plus doc comment/docstring, its enclosing class-like
definition, and a ready-made summary (the text shown to the model: short definitions whole, long functions as
signature + doc, classes as an outline of their members).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from tree_sitter import Node, QueryCursor, Tree

from ..resolution import imports as imports_mod
from ..resolution.imports import Import
from .languages import LanguageSpec, definitions_query, identifiers_query, imports_query

CLASS_LIKE = frozenset({"class", "interface", "enum", "impl", "module"})
FUNCTION_LIKE = frozenset({"function", "method"})
# Nodes that wrap a definition and belong in its signature (``export``, decorators, ``const``, templates).
# fmt: off
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "lexical_declaration", "variable_declaration",
                       "type_declaration", "template_declaration", "const_declaration", "var_declaration",
                       "ambient_declaration", "expression_statement", "declaration"})
# fmt: on
SMALL_DEFINITION_LINES = 15
MAX_SUMMARY_LINES = 40
MAX_DOC_LINES = 20
MAX_OUTLINE_MEMBERS = 12
MAX_DEFINITIONS_PER_FILE = 3000
_MAX_IMPORT_DEPTH = 6  # module level, or inside a few blocks (try/if, a function); deeper ones are rare


class Definition(NamedTuple):  # a tuple: millions are loaded at each start, and tuples load fastest
    name: str
    kind: str
    start_line: int  # 0-based, includes doc comments and decorators
    end_line: int  # exclusive
    header_end: int  # exclusive end of the signature (and docstring)
    parent: str  # name of the enclosing class-like definition, "" at top level
    summary: str  # the text shown to the model


@dataclass
class FileSymbols:
    language: str
    definitions: list[Definition] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)


def split_lines(text: str) -> list[str]:
    """Lines as tree-sitter counts rows (only '\\n' ends a line), without the line ending."""
    lines = text.split("\n")
    if "\r" in text:
        return [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def _normalize_name(raw: str) -> tuple[str, str]:
    """("a::B<T>::f") -> ("f", "B"): the last segment, and the qualifier before it."""
    raw = re.split(r"[<(\[]", raw, maxsplit=1)[0]
    parts = [p for p in re.split(r"::|\.|->|:|\\", raw) if p.strip()]
    if not parts:
        return raw.strip(), ""
    return parts[-1].strip(), parts[-2].strip() if len(parts) > 1 else ""


def _outer(node: Node) -> Node:
    """The wrapper that belongs to the definition's signature (export/decorators/const)."""
    while node.parent is not None and node.parent.type in _WRAPPERS and node.parent.end_byte - node.end_byte <= 2:
        node = node.parent
    return node


def _doc_start(node: Node) -> int:
    row = node.start_point.row
    prev = node.prev_named_sibling
    while (
        prev is not None
        and "comment" in prev.type
        and prev.end_point.row >= row - 1
        and node.start_point.row - prev.start_point.row <= MAX_DOC_LINES
    ):
        row = prev.start_point.row
        prev = prev.prev_named_sibling
    return row


def _header_spans(spec: LanguageSpec, node: Node, body: Node | None) -> tuple[int, int]:
    """(end of the signature, end of the signature and docstring) as exclusive rows."""
    if body is None:
        end = node.end_point.row + (1 if node.end_point.column > 0 else 0)
        return end, end
    before = None
    for child in node.children:
        if child.start_byte >= body.start_byte:
            break
        if "comment" not in child.type:
            before = child
    sig_end = (before.end_point.row if before is not None else body.start_point.row) + 1
    header_end = sig_end
    if spec.indent_blocks:
        first = next((c for c in body.named_children if "comment" not in c.type), None)
        if first is not None and first.type == "expression_statement" and first.named_child_count:
            first = first.named_children[0]
        if first is not None and first.type == "string":
            header_end = first.end_point.row + 1
    return sig_end, header_end


def _go_receiver(node: Node) -> str:
    receiver = node.child_by_field_name("receiver")
    if receiver is None or receiver.text is None:
        return ""
    match = re.search(r"\(\s*(?:\w+\s+)?\*?\s*([A-Za-z_]\w*)", receiver.text.decode("utf-8", "replace"))
    return match.group(1) if match else ""


@dataclass
class _Raw:
    name: str
    kind: str
    node: Node
    start: int
    end: int
    header_end: int
    sig_end: int = 0
    parent: str = ""
    qualifier: str = ""
    indent: str = ""
    members: list[_Raw] = field(default_factory=list)


def extract_symbols(spec: LanguageSpec, tree: Tree, lines: list[str]) -> FileSymbols:
    root = tree.root_node
    chosen: dict[tuple[int, int], tuple[int, str, Node, Node]] = {}
    for pattern, captures in QueryCursor(definitions_query(spec)).matches(root):
        names = captures.get("name")
        def_nodes = [(key, nodes[0]) for key, nodes in captures.items() if key.startswith("def.")]
        if not names or not def_nodes:
            continue
        key, node = def_nodes[0]
        span = (node.start_byte, node.end_byte)
        if span not in chosen or chosen[span][0] > pattern:
            chosen[span] = (pattern, key[4:], node, names[0])
        if len(chosen) >= MAX_DEFINITIONS_PER_FILE:
            break

    raws: list[_Raw] = []
    for _, kind, node, name_node in sorted(chosen.values(), key=lambda c: (c[2].start_byte, -c[2].end_byte)):
        name, qualifier = _normalize_name((name_node.text or b"").decode("utf-8", "replace"))
        if not name:
            continue
        outer = _outer(node)
        start = _doc_start(outer)
        end = node.end_point.row + (1 if node.end_point.column > 0 else 0)
        sig_end, header_end = _header_spans(spec, node, node.child_by_field_name("body"))
        sig_end = max(sig_end, outer.start_point.row + 1)
        raw = _Raw(
            name,
            kind,
            node,
            start,
            max(end, node.start_point.row + 1),
            max(header_end, sig_end),
            sig_end=sig_end,
            qualifier=qualifier,
        )
        if spec.name == "go" and kind == "method":
            raw.qualifier = _go_receiver(node)
        first_line = lines[outer.start_point.row] if outer.start_point.row < len(lines) else ""
        raw.indent = first_line[: len(first_line) - len(first_line.lstrip())]
        raws.append(raw)

    kept: list[_Raw] = []
    stack: list[_Raw] = []
    for raw in raws:
        while stack and stack[-1].node.end_byte <= raw.node.start_byte:
            stack.pop()
        enclosing = stack[-1] if stack else None
        if enclosing is not None and enclosing.kind in FUNCTION_LIKE:
            if raw.kind != "field" or not enclosing.parent:
                continue  # local to a function body: not visible from other files
            raw.parent = enclosing.parent  # an attribute the constructor sets: a field of the class
            kept.append(raw)
            continue
        if enclosing is not None and enclosing.kind in CLASS_LIKE:
            raw.parent = enclosing.name
            if raw.kind == "function":
                raw.kind = "method"
        elif raw.qualifier and raw.kind in FUNCTION_LIKE:
            raw.parent = raw.qualifier  # Go receivers, C++ ``Foo::bar`` out of line
            raw.kind = "method"
        kept.append(raw)
        stack.append(raw)

    by_parent: dict[str, list[_Raw]] = {}
    for raw in kept:
        if raw.parent:
            by_parent.setdefault(raw.parent, []).append(raw)
    definitions = [
        Definition(
            raw.name,
            raw.kind,
            raw.start,
            raw.end,
            raw.header_end,
            raw.parent,
            _summary(spec, raw, lines, by_parent.get(raw.name, []) if raw.kind in CLASS_LIKE else []),
        )
        for raw in kept
    ]
    return FileSymbols(spec.name, definitions, extract_imports(spec, tree))


def extract_imports(spec: LanguageSpec, tree: Tree) -> list[Import]:
    query = imports_query(spec)
    if query is None:
        return []
    found: list[Import] = []
    seen: set[int] = set()
    cursor = QueryCursor(query)
    cursor.set_max_start_depth(_MAX_IMPORT_DEPTH)
    for _, captures in cursor.matches(tree.root_node):
        for node in captures.get("import", []):
            if node.start_byte in seen or node.text is None:
                continue
            seen.add(node.start_byte)
            text = node.text.decode("utf-8", "replace")
            found.extend(imports_mod.parse_import(spec.import_dialect, text, node.start_point.row))
    return found


def _ellipsis(spec: LanguageSpec, indent: str) -> str:
    return f"{indent}    ..." if spec.indent_blocks else f"{indent}    {spec.line_comment} ..."


def _closing(lines: list[str], end: int) -> list[str]:
    """The definition's closing line (``}``, ``end``) so a shortened body still reads as complete."""
    last = lines[end - 1] if 0 < end <= len(lines) else ""
    return [last] if last.strip() in ("}", "};", "end", "});") else []


def _summary(spec: LanguageSpec, raw: _Raw, lines: list[str], members: list[_Raw]) -> str:
    start, end, header_end = raw.start, min(raw.end, len(lines)), min(raw.header_end, len(lines))
    if raw.kind == "namespace":
        return "\n".join(lines[start:header_end][:MAX_DOC_LINES])
    if end - start <= SMALL_DEFINITION_LINES:
        return "\n".join(lines[start:end])
    out = lines[start:header_end][:MAX_SUMMARY_LINES]
    if raw.kind in CLASS_LIKE and members:
        if len(members) > MAX_OUTLINE_MEMBERS:  # big classes: the public surface matters most
            members = [m for m in members if not m.name.startswith("_") or m.name == "__init__"]
        listed: set[str] = set()
        for member in members:
            if len(out) >= MAX_SUMMARY_LINES:
                break
            if member.start < header_end or member.name in listed:
                continue  # overloads (TypeScript, Java, C#...): the first signature stands for all
            listed.add(member.name)
            # Members show their signature only: the outline is about shape.
            sig_start = _outer(member.node).start_point.row
            signature = lines[sig_start : min(member.end if member.kind == "field" else member.sig_end, sig_start + 8)]
            if signature and member.kind in FUNCTION_LIKE and member.end > member.sig_end:
                last = signature[-1].rstrip()
                signature[-1] = last + (" ..." if spec.indent_blocks else " ... }" if last.endswith("{") else "")
            out.extend(signature)
    else:
        out.append(_ellipsis(spec, raw.indent))
    return "\n".join(out + _closing(lines, end))


def identifiers_between(spec: LanguageSpec, tree: Tree, start_byte: int, end_byte: int) -> list[tuple[str, int]]:
    """Identifiers in the byte range, as (name, start byte), in document order."""
    cursor = QueryCursor(identifiers_query(spec))
    cursor.set_byte_range(max(0, start_byte), max(0, end_byte))
    found: list[tuple[str, int]] = []
    for node in cursor.captures(tree.root_node).get("id", []):
        if node.text:
            found.append((node.text.decode("utf-8", "replace"), node.start_byte))
    found.sort(key=lambda item: item[1])
    return found
