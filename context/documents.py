"""The editor's side of the context: open documents (text + live syntax tree), recent edits, recently opened files.

``OpenDocuments.change`` is called for didOpen/didChange/didSave with the whole text; it re-parses
incrementally and records the edited line range. Lines of files that are not open are read from disk through a
small cache keyed by content hash, so snippets always show what the index saw.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .index.files import decode_source, decoded_lines, read_file
from .syntax.languages import LanguageSpec, language_for_id
from .syntax.parsing import ParsedDocument
from .syntax.shape import Shape, completion_shape, shape_from_tree
from .syntax.symbols import split_lines
from .uris import uri_to_key

MAX_RECENT_EDITS = 32
MAX_RECENT_FILES = 16
_LINE_CACHE_FILES = 64
_LINE_CACHE_WINDOWS = 256


@dataclass
class OpenDocument:
    uri: str
    key: str
    spec: LanguageSpec | None
    parsed: ParsedDocument | None
    text: str
    version: int | None
    _lines: list[str] | None = None

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.text)
        return self._lines


@dataclass(frozen=True)
class Edit:
    key: str
    uri: str
    start_line: int
    end_line: int  # exclusive
    at: float


class OpenDocuments:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.docs: dict[str, OpenDocument] = {}
        self.edits: list[Edit] = []  # newest last
        self.opened: OrderedDict[str, float] = OrderedDict()  # key -> time, most recent last

    def change(self, uri: str, text: str, version: int | None, language_id: str | None = None) -> OpenDocument:
        key = uri_to_key(uri)
        with self.lock:
            doc = self.docs.get(key)
            if doc is None:
                spec = language_for_id(language_id, key)
                parsed = ParsedDocument(spec, text) if spec is not None else None
                doc = self.docs[key] = OpenDocument(uri, key, spec, parsed, text, version)
                self.opened[key] = time.monotonic()
                self.opened.move_to_end(key)
                while len(self.opened) > MAX_RECENT_FILES:
                    self.opened.popitem(last=False)
                return doc
            if doc.text == text:
                doc.version = version
                return doc
        changed = None
        if doc.parsed is not None:
            with doc.parsed.lock:
                changed = doc.parsed.update(text)
        else:
            changed = _changed_lines(doc.text, text)
        with self.lock:
            doc.text, doc.version, doc._lines = text, version, None
            if changed is not None:
                self._record_edit(doc, *changed)
        return doc

    def _record_edit(self, doc: OpenDocument, start: int, end: int) -> None:
        now = time.monotonic()
        last = self.edits[-1] if self.edits else None
        if last is not None and last.key == doc.key and start <= last.end_line + 1 and end >= last.start_line - 1:
            # typing on in the same place extends the last edit instead of adding one per keystroke
            self.edits[-1] = Edit(doc.key, doc.uri, min(start, last.start_line), max(end, last.end_line), now)
        else:
            self.edits.append(Edit(doc.key, doc.uri, start, end, now))
            del self.edits[:-MAX_RECENT_EDITS]

    def close(self, uri: str) -> OpenDocument | None:
        with self.lock:
            return self.docs.pop(uri_to_key(uri), None)

    def get(self, key: str) -> OpenDocument | None:
        with self.lock:
            return self.docs.get(key)

    def is_open(self, key: str) -> bool:
        with self.lock:
            return key in self.docs

    def completion_shape(self, uri: str, text: str, offset: int, language_id: str | None = None) -> Shape:
        """``shape.completion_shape`` from the open document's live tree (re-parsing only what ``text`` changed in
        it, for a variant such as a suggestion accepted in the background); a document not open is parsed whole."""
        key = uri_to_key(uri)
        doc = self.get(key)
        if doc is None or doc.parsed is None:
            return completion_shape(text, offset, language_id or "", key)
        return shape_from_tree(doc.spec, text, offset, doc.parsed.tree_for(text))

    def recent_edits(self) -> list[Edit]:
        with self.lock:
            return list(self.edits)

    def recently_opened(self) -> list[str]:
        with self.lock:
            return list(reversed(self.opened))


def _changed_lines(old: str, new: str) -> tuple[int, int] | None:
    """Changed line range for documents without a grammar (line-level diff of prefix and suffix)."""
    a, b = split_lines(old), split_lines(new)
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a, end_b = end_a - 1, end_b - 1
    return None if start == end_b == end_a else (start, max(end_b, start + 1))


class LineCache:
    """Lines of files on disk, for snippets of files that are not open; a few files, keyed by content hash."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self.files: OrderedDict[tuple[str, str], list[str]] = OrderedDict()
        self.windows: OrderedDict[tuple[str, str, int, int], list[str]] = OrderedDict()
        self.reads = 0  # files read from disk

    def lines(self, key: str, digest: str) -> list[str] | None:
        with self.lock:
            cached = self.files.get((key, digest))
            if cached is not None:
                self.files.move_to_end((key, digest))
                return cached
        raw = read_file(Path(key), self.max_bytes)
        self.reads += 1
        text = decode_source(raw, key) if raw is not None else None
        if text is None:
            return None
        lines = split_lines(text)
        with self.lock:
            self.files[(key, digest)] = lines
            while len(self.files) > _LINE_CACHE_FILES:
                self.files.popitem(last=False)
        return lines

    def lines_between(self, key: str, digest: str, start: int, end: int) -> list[str] | None:
        """``lines(key, digest)[start:end]``, decoding and splitting only those lines: the similar-code search
        shows a few lines of each of many files (a whole file is read only when it is kept whole anyway)."""
        with self.lock:
            whole = self.files.get((key, digest))
            if whole is not None:
                self.files.move_to_end((key, digest))
                return whole[start:end]
            window = self.windows.get((key, digest, start, end))
            if window is not None:
                self.windows.move_to_end((key, digest, start, end))
                return window
        raw = read_file(Path(key), self.max_bytes)
        self.reads += 1
        window = decoded_lines(raw, start, end) if raw is not None else None
        if window is None:
            return None
        with self.lock:
            self.windows[(key, digest, start, end)] = window
            while len(self.windows) > _LINE_CACHE_WINDOWS:
                self.windows.popitem(last=False)
        return window
