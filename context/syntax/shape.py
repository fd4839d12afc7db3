"""Whether to complete at a position, and how much: the cheap syntax check before any model call.

``completion_shape`` answers "none" (don't ask the model), "line" (stop at the end of the line) or "block"
(several lines), with a short reason for logs and the inspect command. It looks at the text around the cursor
and at the syntax tree: mid-identifier or text right of the cursor -> none; inside a string or comment -> line
(none inside a delimiter); inside an argument list -> line; right after a block opener (``:`` ending a Python
header, ``{``) or on a fresh line where a block is missing (an empty body, the end of a block) -> block; a fresh
line with code following at its indentation -> line; anything else mid-line -> line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tree_sitter import Node, Tree

from .languages import LanguageSpec, is_string_or_comment, language_for_id
from .parsing import ParsedDocument

ShapeKind = Literal["none", "line", "block"]


@dataclass(frozen=True)
class Shape:
    kind: ShapeKind
    reason: str


_WORD = re.compile(r"\w")
_CLOSERS_ONLY = re.compile(r"^[\s)\]}>\"'`;,]*$")
_ARGUMENT_LIST = re.compile(
    r"(^|_)(arguments?|argument_list|parameters|parameter_list|formal_parameters|"
    r"value_arguments|call_suffix|method_parameters|lambda_parameters)$"
)
_BLOCK_NODE = re.compile(
    r"(^|_)(block|body|statement_block|compound_statement|declaration_list|"
    r"lambda|arrow_function|function_expression|closure_expression|do_block)($|_)"
)
_BLOCK_KEYWORDS = {
    "ruby": re.compile(r"^\s*(def|class|module|if|unless|while|until|case|begin|for)\b"),
    "lua": re.compile(r"^\s*(local\s+)?function\b|\b(then|do|repeat)$"),
    "bash": re.compile(r"\b(then|do|else)$"),
}


def _opens_block(spec: LanguageSpec, line: str) -> bool:
    stripped = line.rstrip()
    if not stripped:
        return False
    if any(stripped.endswith(opener) for opener in spec.block_openers):
        return True
    keywords = _BLOCK_KEYWORDS.get(spec.name)
    return bool(keywords and keywords.search(stripped))


def previous_nonblank_line(text: str, line_start: int) -> str:
    """The last non-blank line before the line starting at ``line_start`` ("" when there is none)."""
    end = line_start - 1
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        if line.strip():
            return line
        end = start - 1
    return ""


def first_nonblank_line(text: str) -> str | None:
    for line in text.split("\n"):
        if line.strip():
            return line
    return None


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _contains(node: Node, byte: int) -> bool:
    # A line comment runs to the end of the line, so a cursor at its end is still inside it.
    return node.start_byte < byte < node.end_byte or (
        "comment" in node.type and node.start_byte < byte == node.end_byte
    )


def _string_or_comment_at(node: Node | None, byte: int) -> Node | None:
    while node is not None:
        if is_string_or_comment(node.type) and _contains(node, byte):
            # the outermost such node: a string_content inside a string resolves to the string
            outer = node.parent
            while outer is not None and is_string_or_comment(outer.type) and _contains(outer, byte):
                node, outer = outer, outer.parent
            return node
        node = node.parent
    return None


def _inside_delimiter(string: Node, byte: int) -> bool:
    """The cursor sits inside an opening/closing quote run (e.g. between the quotes of a closing ``\"\"\"``)."""
    if "comment" in string.type or string.text is None:
        return False
    for child in string.children:
        if child.start_byte < byte < child.end_byte and child.type in ('"', "'", "`", "string_start", "string_end"):
            return True
    return False


def _in_argument_list(node: Node | None) -> bool:
    while node is not None:
        if _BLOCK_NODE.search(node.type):
            return False
        if _ARGUMENT_LIST.search(node.type) and "type" not in node.type:
            return True
        node = node.parent
    return False


def shape_from_tree(
    spec: LanguageSpec | None, text: str, offset: int, tree: Tree | None, byte_offset: int | None = None
) -> Shape:
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    before = text[line_start:offset]
    after = text[offset : line_end if line_end >= 0 else len(text)]
    if after[:1] and _WORD.match(after[0]):
        return Shape("none", "mid-identifier" if before[-1:] and _WORD.match(before[-1]) else "text right of cursor")

    if spec is not None and tree is not None:
        byte = byte_offset if byte_offset is not None else len(text[:offset].encode("utf-8", "surrogatepass"))
        node = tree.root_node.descendant_for_byte_range(max(byte - 1, 0), byte)
        enclosing = _string_or_comment_at(node, byte) or _string_or_comment_at(
            tree.root_node.descendant_for_byte_range(byte, byte), byte
        )
        if enclosing is not None:
            if _inside_delimiter(enclosing, byte):
                return Shape("none", "inside a string delimiter")
            return Shape("line", "inside a comment" if "comment" in enclosing.type else "inside a string")
        if _in_argument_list(node):
            return Shape("line", "inside an argument list")

    if not _CLOSERS_ONLY.match(after):
        return Shape("line", "text right of cursor")
    if not before.strip():
        # A block only where one is missing (as Copilot decides): an empty body after an opener, or the end of a
        # block. Between existing statements the user adds one line; a block would re-write the code below.
        following = first_nonblank_line(text[line_end + 1 :]) if line_end >= 0 else None
        opener = previous_nonblank_line(text, line_start)
        if spec is not None and _opens_block(spec, opener):
            if following is None or _indent(following) <= _indent(opener):
                return Shape("block", "empty block after a block opener")
            return Shape("line", "the block's body follows")
        if following is None or _indent(following) < _indent(before):
            return Shape("block", "end of a block")
        return Shape("line", "code follows")
    if spec is not None and _opens_block(spec, before):
        return Shape("block", "after a block opener")
    return Shape("line", "mid-line")


def completion_shape(text: str, offset: int, language_id: str, path: str = "") -> Shape:
    """Decide "none" / "line" / "block" for a completion at ``offset`` (a Python string index into ``text``), parsing
    ``text`` whole. An open document has a live tree: ``OpenDocuments.completion_shape`` re-parses only the edit."""
    spec = language_for_id(language_id, path)
    if spec is None:
        return shape_from_tree(None, text, offset, None)
    return shape_from_tree(spec, text, offset, ParsedDocument(spec, text).tree)
