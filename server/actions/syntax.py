"""Syntax checks with the context engine's tree-sitter grammars.

The agent warns the model (and the user, in its report) when an edit breaks a file that parsed before; code
actions cut an answer that ran out of tokens back to the part that parses.
"""

from __future__ import annotations

import ast
import logging
import re
from pathlib import Path

log = logging.getLogger(__name__)


def syntax_error(path: Path, text: str) -> str | None:
    """'line N' of the first syntax error in ``text``, None when it parses or the language is unknown.
    Python is checked by Python's own parser (tree-sitter accepts, e.g., a ``def`` without a body)."""
    if path.suffix in (".py", ".pyi"):
        try:
            ast.parse(text)
        except SyntaxError as error:
            return f"line {error.lineno or 1}"
        except ValueError:  # NUL bytes
            return "line 1"
        return None
    try:
        from qwen_lsp.context.syntax.languages import language_for_path, parser_for

        spec = language_for_path(path.name)
        if spec is None:
            return None
        root = parser_for(spec).parse(text.encode("utf-8", "surrogatepass")).root_node
    except Exception:  # no grammar for this file: no opinion
        log.debug("no syntax check for %s", path, exc_info=True)
        return None
    if not root.has_error:
        return None
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return f"line {node.start_point[0] + 1}"
        stack.extend(reversed([child for child in node.children if child.has_error or child.is_missing]))
    return f"line {root.start_point[0] + 1}"


def new_syntax_error(path: Path, before: str | None, after: str) -> str | None:
    """The first syntax error of ``after`` when ``before`` (None: a new file) had none."""
    if before is not None and syntax_error(path, before) is not None:
        return None  # it was already broken: not this edit's doing
    return syntax_error(path, after)


def parseable_prefix(path: Path, code: str) -> str | None:
    """The longest part of ``code`` ending at a blank line that parses (``code`` itself if it does), for an answer
    cut off mid-statement; None when no such part exists. Languages without a grammar come back unchanged."""
    if syntax_error(path, code) is None:
        return code
    lines = code.split("\n")
    for end in range(len(lines) - 1, 0, -1):
        if not lines[end].strip() and lines[end - 1].strip():
            candidate = "\n".join(lines[:end]) + "\n"
            if syntax_error(path, candidate) is None:
                return candidate
    return None


def drop_repeated_blocks(code: str) -> str:
    """Top-level blocks (separated by blank lines, starting in column 0) that repeat an earlier one word for word
    are dropped: small models loop on the same test when sampling greedily."""
    blocks = re.split(r"\n(?:[ \t]*\n)+", code)
    seen: set[str] = set()
    kept = []
    for block in blocks:
        key = block.strip("\n")
        if key and not key[0].isspace() and key in seen:
            continue
        seen.add(key)
        kept.append(block)
    separator = "\n\n\n" if re.search(r"\n[ \t]*\n[ \t]*\n", code) else "\n\n"
    return separator.join(kept)
