"""Offsets in a document's text and LSP positions (in the client's code units), and the code an action works on.

An empty selection (a cursor) grows to the innermost definition around it (function, class, ...) found by the
repository context engine's tree-sitter queries, or to the current line when there is none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types

from ..text_document import line_content, split_lines

log = logging.getLogger(__name__)
Units = Callable[[str], int]  # code units of a string in the negotiated position encoding (UTF-16 by default)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def offset_at(text: str, position: types.Position, units: Units = utf16_units) -> int:
    """The string index of an LSP position; a character past the end of its line means the end of the line."""
    lines = split_lines(text)  # LSP line breaks only (not str.splitlines: form feed, U+2028, ...)
    if position.line >= len(lines):
        return len(text)
    start = sum(len(line) for line in lines[: position.line])
    content = line_content(lines[position.line])
    count = 0
    for index, char in enumerate(content):
        if count >= position.character:
            return start + index
        count += units(char)
    return start + len(content)


def position_at(text: str, offset: int, units: Units = utf16_units) -> types.Position:
    offset = max(0, min(offset, len(text)))
    lines = split_lines(text[:offset])
    return types.Position(line=len(lines) - 1, character=units(lines[-1]))


def range_at(text: str, start: int, end: int, units: Units = utf16_units) -> types.Range:
    return types.Range(start=position_at(text, start, units), end=position_at(text, end, units))


def whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow ``[start, end)`` to whole lines (the end includes the last line's newline)."""
    line_start = text.rfind("\n", 0, start) + 1
    if end > start and text[end - 1 : end] == "\n":
        return line_start, end
    newline = text.find("\n", end)
    return line_start, len(text) if newline < 0 else newline + 1


@dataclass(frozen=True)
class Selection:
    """The part of a document an action rewrites, as string indexes into ``text``."""

    text: str
    start: int
    end: int

    @property
    def code(self) -> str:
        return self.text[self.start : self.end]

    @property
    def before(self) -> str:
        return self.text[: self.start]

    @property
    def after(self) -> str:
        return self.text[self.end :]

    def first_line(self) -> int:
        return self.before.count("\n")


def selection_for(text: str, start: int, end: int, language_id: str, path: str) -> Selection:
    """The code an action works on: a non-empty selection as whole lines; a cursor grows to its enclosing
    definition (or line)."""
    if end > start and text[start:end].strip():
        return Selection(text, *whole_lines(text, start, end))
    block = enclosing_definition(text, start, language_id, path)
    if block is not None:
        return Selection(text, *block)
    return Selection(text, *whole_lines(text, start, start))


def enclosing_definition(text: str, offset: int, language_id: str, path: str) -> tuple[int, int] | None:
    """The innermost definition containing ``offset`` as whole lines, or None (unknown language, parse problem)."""
    try:
        from qwen_lsp.context.index.repo_index import analyze
        from qwen_lsp.context.syntax.languages import language_for_id

        spec = language_for_id(language_id, path)
        if spec is None:
            return None
        definitions = analyze(spec, text).definitions
    except Exception:  # the context engine is optional here; a cursor then means its line
        log.debug("no definitions for %s", path, exc_info=True)
        return None
    line = text.count("\n", 0, offset)
    around = [d for d in definitions if d.start_line <= line < d.end_line]
    if not around:
        return None
    inner = min(around, key=lambda d: d.end_line - d.start_line)
    starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
    start = starts[inner.start_line] if inner.start_line < len(starts) else len(text)
    end = starts[inner.end_line] if inner.end_line < len(starts) else len(text)
    return start, end
