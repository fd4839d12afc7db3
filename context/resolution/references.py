"""What the cursor refers to, read from the text before it: ``x.`` / ``pkg.na`` / ``obj.method(`` / ``Type::new(a, ``.

``reference_at`` returns the qualifier chain (``self.client.send(`` -> ``["self", "client"]``, a segment ending in
``()`` is the result of a call) and the member typed so far; ``enclosing_type`` names the class, impl or Go
receiver type around the cursor, which ``self``/``this``/``Self`` stand for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node, Tree

MAX_LOOKBACK = 400  # characters before the cursor searched for an unclosed call
MAX_CHAIN = 12  # builder chains: Command::new(..).about(..).arg(..)...
_IDENT_CHAR = re.compile(r"[\w$]")
_SEPARATORS = ("?.", "::", "->", ".")
COMMENT_STARTS = ("//", "#", "/*", "* ", "--")  # line starts of comments; `*p = ...` is code
# fmt: off
_KEYWORDS = frozenset({"return", "if", "while", "await", "yield", "not", "and", "or", "in", "of", "case", "throw",
                       "typeof", "void", "else", "do", "match", "as", "is"})
# fmt: on
_PREFIX_CAST = re.compile(r"\(\s*\(\s*([A-Z][\w$.]*)\s*(?:<[^()]*>)?\s*\)\s*[\w$]")  # ((Element) next)
_UNTYPED = frozenset({"any", "unknown"})
_LINE_COMMENT = re.compile(r'^(?:(?:[^"\'\n]|"[^"\n]*"|\'[^\'\n]*\')*?\s)?(//.*)$', re.M)  # outside quotes
_CAST = re.compile(r"\bas\s+([A-Za-z_$][\w$.]*)\s*(?:<[^()]*>)?\s*\)$")
_TYPE_NODES = {
    "class_definition": "name",
    "class_declaration": "name",
    "abstract_class_declaration": "name",
    "interface_declaration": "name",
    "enum_declaration": "name",
    "record_declaration": "name",
    "impl_item": "type",
    "trait_item": "name",
    "struct_item": "name",
    "class": "name",
}


@dataclass(frozen=True)
class Reference:
    chain: tuple[str, ...]  # the qualifier, outermost first; empty for a bare name
    member: str  # the member (or bare name) typed so far; "" right after the separator
    called: bool  # the member is followed by "(" (the cursor is inside its arguments)
    separator: str = ""


def _identifier_before(text: str, end: int) -> int:
    start = end
    while start > 0 and _IDENT_CHAR.match(text[start - 1]):
        start -= 1
    return start


def _skip_group_before(text: str, end: int) -> int:
    """Start of the bracketed group ending just before ``end`` (text[end-1] is ')' or ']'), or -1."""
    closing = text[end - 1]
    opening = "(" if closing == ")" else "["
    depth = 0
    for i in range(end - 1, max(-1, end - 1 - MAX_LOOKBACK), -1):
        ch = text[i]
        if ch == closing:
            depth += 1
        elif ch == opening:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _separator_before(text: str, end: int, newlines: bool = False) -> tuple[str, int]:
    """The member-access separator just before ``end`` (spaces allowed) and where it starts; ("", -1) if none.
    ``newlines``: a chain may continue on the next line (``builder\n    .about(...)\n    .``)."""
    j = end
    while j > 0 and (text[j - 1] in " \t" or (newlines and text[j - 1] in "\r\n")):
        j -= 1
    for sep in _SEPARATORS:
        if text.endswith(sep, 0, j):
            if sep == "->" and j < end:  # ``x -> x.``: a lambda's arrow, not C's member access
                return "", -1
            return sep, j - len(sep)
    return "", -1


def _code_end(text: str, end: int) -> int:
    """Where the code before ``end`` ends, spaces and line breaks skipped, and a line comment a chain continued
    on the next line left behind (``command!() // needs a feature`` then ``\n    .arg(..)``)."""
    j = end
    while j > 0 and text[j - 1] in " \t\r\n":
        if text[j - 1] == "\n":
            line_start = text.rfind("\n", 0, j - 1) + 1
            comment = _LINE_COMMENT.search(text, line_start, j - 1)
            if comment:
                j = comment.start(1) + 1
        j -= 1
    return j


def _chain_before(text: str, end: int) -> tuple[str, ...]:
    """The qualifier segments that end at ``end`` (just before a separator), outermost first."""
    segments: list[str] = []
    while len(segments) < MAX_CHAIN:
        j = _code_end(text, end)
        called = False
        group = -1
        if j > 0 and text[j - 1] in ")]":
            group = _skip_group_before(text, j)
            if group < 0:
                break
            called = text[j - 1] == ")"
            j = group
            if j > 0 and text[j - 1] == ">":  # Rust turbofish / Java generic call: foo::<T>()
                lt = text.rfind("<", max(0, j - 80), j)
                j = lt if lt > 0 else j
                if text.endswith("::", 0, j):
                    j -= 2
        macro = called and j > 0 and text[j - 1] == "!"  # Rust: command!().arg(..)
        if macro:
            j -= 1
        start = _identifier_before(text, j)
        if called and (start == j or text[start:j] in _KEYWORDS):  # (expr as Type).member: a cast
            cast = _CAST.search(text[group:end].rstrip()) or _PREFIX_CAST.match(text, group)
            if cast and cast.group(1) in _UNTYPED:  # (x as any): the type system is sidestepped, x is what it was
                inner = text[group + 1 : group + cast.start()].rstrip()
                segments += reversed(_chain_before(inner, len(inner)))
            elif cast:
                segments.append(":" + cast.group(1))
            break
        if start == j:
            break
        segments.append(text[start:j] + ("!" if macro else "") + ("()" if called else "[]" if group >= 0 else ""))
        sep, end = _separator_before(text, start, newlines=True)
        if not sep or _in_line_comment(text, end):  # a sentence's full stop ending the comment line above
            break
    return tuple(reversed(segments))


def _unclosed_paren(text: str) -> int:
    """Index of the innermost '(' before the end of ``text`` that is not closed, or -1."""
    depth = 0
    for i in range(len(text) - 1, max(-1, len(text) - 1 - MAX_LOOKBACK), -1):
        ch = text[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                return i if ch == "(" else -1
            depth -= 1
        elif ch == ";" and depth == 0:
            return -1
    return -1


def _in_line_comment(text: str, at: int) -> bool:
    """Whether ``at`` is in a comment line (``// ... dispose call.`` above the cursor is not a member access), or
    in a ``//`` comment after code."""
    line = text[text.rfind("\n", 0, at) + 1 : at]
    return line.lstrip().startswith(COMMENT_STARTS) or ("//" in line and _LINE_COMMENT.match(line) is not None)


def reference_at(before: str) -> Reference | None:
    """The reference the cursor is in, from the text before the cursor (a few hundred characters suffice)."""
    before = before[-MAX_LOOKBACK * 2 :]
    member_start = _identifier_before(before, len(before))
    member = before[member_start:]
    sep, at = _separator_before(before, member_start, newlines=True)
    if sep and not _in_line_comment(before, at):
        return Reference(_chain_before(before, at), member, False, sep)
    paren = _unclosed_paren(before)
    if paren < 0:
        return Reference((), member, False) if member else None
    end = paren
    while end > 0 and before[end - 1] in " \t":
        end -= 1
    if end > 0 and before[end - 1] == ">":  # generic call: make<T>( / Type::<T>::new(
        lt = before.rfind("<", max(0, end - 80), end)
        end = lt if lt > 0 else end
    start = _identifier_before(before, end)
    if start == end:
        return None
    name = before[start:end]
    sep, at = _separator_before(before, start, newlines=True)
    if not sep:
        return Reference((), name, True)
    return Reference(_chain_before(before, at), name, True, sep)


def _name_of(node: Node, field: str) -> str:
    child = node.child_by_field_name(field)
    text = (child.text or b"").decode("utf-8", "replace") if child is not None else ""
    text = re.split(r"[<\[(]", text, maxsplit=1)[0]
    return re.split(r"::|\.", text)[-1].strip()


_TYPE_LINE = re.compile(
    r"^(\s*)(?:(?:[\w@]+|@\w+\([^)]*\))\s+)*(?:class|struct|interface|enum|record|trait|object)"
    r"\s+([A-Za-z_$][\w$]*)"
)
_IMPL_LINE = re.compile(r"^(\s*)impl\b(?:\s*<[^>]*>)?\s+(?:[\w:]+(?:<[^>]*>)?\s+for\s+)?(?:[\w]+::)*([A-Za-z_]\w*)")
_FUNC_LINE = re.compile(
    r"^(\s*)(?:(?:async|pub|export|static|public|private)\s+)*(?:def|func|fn|function)\b"
    r"(?:\s*\(\s*(?:\w+\s+)?\*?\s*([A-Za-z_]\w*))?"
)
MAX_TYPE_LOOKBACK = 2000  # lines


def enclosing_type_in_text(lines: list[str], row: int) -> str:
    """``enclosing_type`` from the text alone, for code the parser could not make sense of (an unfinished line
    at the end of a file): the nearest class/struct/impl header indented less than the cursor line; a Go method's
    receiver type; nothing once a top-level function header is passed."""
    current = lines[row] if row < len(lines) else ""
    indent = len(current) - len(current.lstrip()) if current.strip() else 1 << 30
    for i in range(row, max(-1, row - MAX_TYPE_LOOKBACK), -1):
        line = lines[i]
        if not line.strip():
            continue
        level = len(line) - len(line.lstrip())
        if level >= indent and i != row:
            continue
        indent = min(indent, level)
        match = _TYPE_LINE.match(line) or _IMPL_LINE.match(line)
        if match and i != row:
            return match.group(2)
        func = _FUNC_LINE.match(line)
        if func and level == 0 and i != row:
            return func.group(2) or "" if line.lstrip().startswith("func") else ""
    return ""


def enclosing_type(tree: Tree | None, byte: int) -> str:
    """Name of the class-like definition (or Go method receiver type) around ``byte``, or ""."""
    if tree is None:
        return ""
    node: Node | None = tree.root_node.descendant_for_byte_range(max(0, byte - 1), max(0, byte - 1))
    while node is not None:
        field = _TYPE_NODES.get(node.type)
        if field:
            return _name_of(node, field)
        receiver_node = node.child_by_field_name("receiver") if node.type == "method_declaration" else None
        if receiver_node is not None:
            receiver = (receiver_node.text or b"").decode("utf-8", "replace")
            match = re.search(r"\(\s*(?:\w+\s+)?\*?\s*([A-Za-z_]\w*)", receiver)
            return match.group(1) if match else ""
        node = node.parent
    return ""
