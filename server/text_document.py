"""Open documents with LSP line semantics, kept as a list of lines so that an edit costs what it touches.

pygls keeps one string and splits it with ``str.splitlines`` on every edit: that splits on characters LSP does not
count as line breaks (form feed, \\x1c-\\x1e, NEL, U+2028, U+2029), so the server's copy drifts from the client's,
and every keystroke re-splits and rewrites the whole document (about a second in a file with one 1 MB line).
Here the only line breaks are ``\\n``, ``\\r\\n`` and ``\\r``; positions are converted in C (encode/decode) rather
than a Python loop per character; the full text is joined only when asked for and then cached.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

# What str.splitlines splits on besides "\n", "\r\n" and "\r"; LSP does not.
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LSP_ENDINGS = ("\n", "\r")
_BREAK_CHARS = "\r\n"


def split_lines(text: str) -> list[str]:
    """LSP lines with their line breaks; the last one has none (and is "" after a final line break)."""
    pieces = text.splitlines(True)  # in C; a regular expression split is ~100x slower on a 1 MB line
    if any(char in text for char in _OTHER_BREAKS):  # substring search: ~40x faster than a regex class here
        merged: list[str] = []
        pending: list[str] = []
        for piece in pieces:
            pending.append(piece)
            if piece.endswith(_LSP_ENDINGS):
                merged.append("".join(pending))
                pending = []
        if pending:
            merged.append("".join(pending))
        pieces = merged
    if not pieces or pieces[-1].endswith(_LSP_ENDINGS):
        pieces.append("")
    return pieces


def line_content(line: str) -> str:
    return line.rstrip(_BREAK_CHARS)


def code_points(content: str, units: int, encoding: str | None) -> int:
    """How many characters of ``content`` the first ``units`` code units of ``encoding`` cover (clamped)."""
    if units <= 0:
        return 0
    prefix = content[:units]  # a code point is at least one unit in every encoding
    if prefix.isascii() or encoding == types.PositionEncodingKind.Utf32:
        return len(prefix)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(prefix.encode("utf-8", "surrogatepass")[:units].decode("utf-8", "ignore"))
    data = prefix.encode("utf-16-le", "surrogatepass")[: 2 * units]
    return len(data.decode("utf-16-le", "surrogatepass"))


def client_units(text: str, encoding: str | None) -> int:
    if text.isascii() or encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class LspTextDocument(TextDocument):
    """A ``TextDocument`` whose text is a list of LSP lines (see the module docstring)."""

    def __init__(self, uri: str, source: str | None = None, *args, **kwargs) -> None:
        super().__init__(uri, source, *args, **kwargs)
        self._lines: list[str] | None = split_lines(source) if source is not None else None
        self._joined: str | None = source
        self._length = len(source) if source is not None else None

    # --- text -------------------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        if self._lines is None:
            return super().source  # never opened: pygls reads the file from disk
        if self._joined is None:
            self._joined = "".join(self._lines)
        return self._joined

    @property
    def lines(self) -> Sequence[str]:
        """Like pygls: the lines with their breaks, without the empty line after a final line break."""
        lines = self._all_lines()
        return tuple(lines[:-1] if lines[-1] == "" else lines)

    @property
    def length(self) -> int:
        """Characters in the document, without joining its lines."""
        if self._length is None:
            self._length = len(self.source)
        return self._length

    @property
    def line_count(self) -> int:
        """LSP lines, counting the empty line after a final line break."""
        return len(self._all_lines())

    def _all_lines(self) -> list[str]:
        if self._lines is None:
            self._lines = split_lines(self.source)
        return self._lines

    def _set_text(self, text: str) -> None:
        self._lines = split_lines(text)
        self._joined = text
        self._length = len(text)

    # --- positions ----------------------------------------------------------------------------------------
    def _encoding(self) -> str | None:
        return self.position_codec.encoding

    def clamp(self, position: types.Position) -> tuple[int, int]:
        """(line, code point column) of a client position, clamped to the document: a line past the end means
        the end of the document, a character past the end of its line the end of the line (LSP)."""
        lines = self._all_lines()
        if position.line >= len(lines):
            last = len(lines) - 1
            return last, len(lines[last])
        content = line_content(lines[position.line])
        return position.line, code_points(content, position.character, self._encoding())

    def offset_at_position(self, client_position: types.Position) -> int:
        line, column = self.clamp(client_position)
        return sum(map(len, self._all_lines()[:line])) + column

    # --- edits ------------------------------------------------------------------------------------------
    def _apply_full_change(self, change: types.TextDocumentContentChangeEvent) -> None:
        self._set_text(change.text)

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        start, end = self.clamp(change.range.start), self.clamp(change.range.end)
        if end < start:
            start, end = end, start  # a reversed range: apply it to the text it spans
        lines = self._all_lines()
        (first, start_col), (last, end_col) = start, end
        chunk = lines[first][:start_col] + change.text + lines[last][end_col:]
        if first > 0 and chunk.startswith("\n") and lines[first - 1].endswith("\r"):
            first -= 1  # the inserted "\n" completes the "\r" before it: one line break, not two
            chunk = lines[first] + chunk
        replacement = split_lines(chunk)
        if last < len(lines) - 1:
            replacement.pop()  # the chunk ends with a line break: drop the empty piece after it
        if self._length is not None:
            self._length += sum(map(len, replacement)) - sum(map(len, lines[first : last + 1]))
        lines[first : last + 1] = replacement
        self._joined = None


class LspWorkspace(Workspace):
    """A pygls ``Workspace`` whose open documents are ``LspTextDocument``s."""

    def _create_text_document(
        self, doc_uri: str, source: str | None = None, version: int | None = None, language_id: str | None = None
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self._position_codec,
        )

    @classmethod
    def replacing(cls, workspace: Workspace) -> LspWorkspace:
        """The same workspace (root, folders, sync kind, position encoding) with this document model."""
        return cls(
            workspace.root_uri, workspace._sync_kind, list(workspace.folders.values()), workspace.position_encoding
        )
