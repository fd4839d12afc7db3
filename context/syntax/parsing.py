"""Syntax trees of documents that change keystroke by keystroke.

The server hands over whole texts, so the edit is recovered by diffing against the previous text (common prefix
and suffix, compared in chunks at memcmp speed) and fed to tree-sitter, which then re-parses only what changed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tree_sitter import Point, Tree

from .languages import LanguageSpec, parser_for

_CHUNK = 4096
MAX_PARSE_BYTES = 4 * 1024 * 1024  # beyond this a document is not parsed at all (memory and time stay bounded)


def common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i : i + _CHUNK] == b[i : i + _CHUNK]:
        i += _CHUNK
    if i >= n:
        return n
    lo, hi = i, min(i + _CHUNK, n)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[i:mid] == b[i:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """Length of the common suffix, at most ``limit`` bytes."""
    n = min(len(a), len(b), limit)
    i = 0
    while i < n:
        step = min(_CHUNK, n - i)
        if a[len(a) - i - step : len(a) - i] != b[len(b) - i - step : len(b) - i]:
            break
        i += step
    if i >= n:
        return n
    lo, hi = i, min(i + _CHUNK, n)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[len(a) - mid : len(a) - i] == b[len(b) - mid : len(b) - i]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _utf8_boundary(data: bytes, index: int) -> int:
    while 0 < index < len(data) and (data[index] & 0xC0) == 0x80:
        index -= 1
    return index


def _point(data: bytes, index: int) -> Point:
    row = data.count(b"\n", 0, index)
    return Point(row, index - (data.rfind(b"\n", 0, index) + 1))


def _advance(start: Point, inserted: bytes) -> Point:
    newlines = inserted.count(b"\n")
    if newlines == 0:
        return Point(start.row, start.column + len(inserted))
    return Point(start.row + newlines, len(inserted) - inserted.rfind(b"\n") - 1)


@dataclass(frozen=True)
class _Edit:
    """One changed span between two texts, as ``Tree.edit`` takes it."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: Point
    old_end_point: Point
    new_end_point: Point

    @classmethod
    def between(cls, old: bytes, new: bytes) -> _Edit:
        start = _utf8_boundary(new, common_prefix(old, new))
        tail = common_suffix(old, new, min(len(old), len(new)) - start)
        start_point = _point(new, start)
        # the end points follow from the start point and the few changed bytes
        return cls(
            start,
            len(old) - tail,
            len(new) - tail,
            start_point,
            _advance(start_point, old[start : len(old) - tail]),
            _advance(start_point, new[start : len(new) - tail]),
        )

    def apply(self, tree: Tree) -> None:
        tree.edit(
            start_byte=self.start_byte,
            old_end_byte=self.old_end_byte,
            new_end_byte=self.new_end_byte,
            start_point=self.start_point,
            old_end_point=self.old_end_point,
            new_end_point=self.new_end_point,
        )


class ParsedDocument:
    """A text and its syntax tree. ``update`` applies an edit to the tree at once (cheap) and re-parses lazily, when
    ``tree`` is next read, so a burst of keystrokes costs one incremental parse. Guard use with ``lock``."""

    def __init__(self, spec: LanguageSpec, text: str) -> None:
        self.spec = spec
        self.lock = threading.RLock()
        self.text = text
        self.source = text.encode("utf-8", "surrogatepass")
        self._tree: Tree | None = None
        self._stale = True

    @property
    def tree(self) -> Tree | None:
        if self._stale:
            self._stale = False
            if len(self.source) > MAX_PARSE_BYTES:
                self._tree = None
            else:
                parser = parser_for(self.spec)
                self._tree = (
                    parser.parse(self.source, self._tree) if self._tree is not None else parser.parse(self.source)
                )
        return self._tree

    def fresh_tree(self) -> tuple[str, Tree | None]:
        """(text, a private copy of its up-to-date tree) without holding ``lock`` while parsing, so the thread
        applying keystrokes never waits for a parse."""
        with self.lock:
            if not self._stale:
                return self.text, self._tree.copy() if self._tree is not None else None
            text, source = self.text, self.source
            old = self._tree.copy() if self._tree is not None else None
        tree = None
        if len(source) <= MAX_PARSE_BYTES:
            parser = parser_for(self.spec)
            tree = parser.parse(source, old) if old is not None else parser.parse(source)
        with self.lock:
            if self.source is source and self._stale:  # nothing typed meanwhile: keep it for the next reader
                self._tree, self._stale = tree, False
                return text, tree.copy() if tree is not None else None
        return text, tree

    def update(self, text: str) -> tuple[int, int] | None:
        """Take the new text; return the changed line range in the new text (start, exclusive end), or None."""
        if text == self.text:
            return None
        new = text.encode("utf-8", "surrogatepass")
        edit = _Edit.between(self.source, new)
        if self._tree is not None:
            edit.apply(self._tree)
        self.text, self.source = text, new
        self._stale = True
        return edit.start_point.row, edit.new_end_point.row + 1

    def tree_for(self, text: str) -> Tree | None:
        """The tree of ``text``: this document's when it holds that text, else parsed incrementally from it (``text``
        is a variant of the document, e.g. with a suggestion accepted); the document itself is left as it is."""
        current, tree = self.fresh_tree()
        if text == current:
            return tree
        new = text.encode("utf-8", "surrogatepass")
        if len(new) > MAX_PARSE_BYTES:
            return None
        parser = parser_for(self.spec)
        if tree is None:
            return parser.parse(new)
        _Edit.between(current.encode("utf-8", "surrogatepass"), new).apply(tree)  # a private copy: ours to edit
        return parser.parse(new, tree)

    def byte_offset(self, offset: int) -> int:
        """Byte index of a string index (Python code points) into ``text``."""
        if self.source is not None and len(self.source) == len(self.text):  # ASCII: same index
            return offset
        return len(self.text[:offset].encode("utf-8", "surrogatepass"))
