"""A document being typed into, mirrored on the bench side: the text, the cursor, the LSP version, and the exact
FIM prompt the server builds for the cursor (so a direct llama.cpp call can get the very same tokens).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

from common import LspSession
from qwen_lsp.clients.base import Prompt
from qwen_lsp.clients.models.fim_templates import FimTemplate
from qwen_lsp.server.completion.prompt import file_window, render_fim_prompt
from qwen_lsp.server.completion.stop import StopRules


def package_source(module: str) -> tuple[str, str]:
    """The source text and file name of an installed module (real code from a pinned dependency)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"module {module} is not installed")
    path = Path(spec.origin)
    text = path.read_text()
    if not text.isascii():
        raise SystemExit(f"{path} is not ASCII; pick another file (positions are sent as UTF-16)")
    return text, path.name


def typing_point(text: str, at_fraction: float, min_length: int = 30) -> tuple[int, int]:
    """A code line near ``at_fraction`` of the file, and the column a third of the way into its code: the
    user is in the middle of writing this line. Returns (line, column)."""
    lines = text.split("\n")
    for index in range(int(len(lines) * at_fraction), len(lines)):
        stripped = lines[index].strip()
        if len(stripped) >= min_length and not stripped.startswith(("#", '"', "'", "@")):
            indent = len(lines[index]) - len(lines[index].lstrip())
            return index, indent + len(stripped) // 3
    raise SystemExit("no code line long enough in the file")


@dataclass
class TypedDocument:
    """The bench-side copy of one open document. ``to_type`` is the text the simulated user types next."""

    uri: str
    text: str
    offset: int
    to_type: str
    version: int = 1
    typed: int = 0
    history: list[str] = field(default_factory=list)

    @classmethod
    def cut_line(cls, uri: str, text: str, line: int, column: int) -> TypedDocument:
        """``text`` with the rest of ``line`` after ``column`` removed; the cursor at the cut; the removed
        rest is what gets typed."""
        lines = text.split("\n")
        rest = lines[line][column:]
        lines[line] = lines[line][:column]
        cut = "\n".join(lines)
        offset = sum(len(text) + 1 for text in lines[:line]) + column
        return cls(uri, cut, offset, rest)

    @classmethod
    def cut_lines(cls, uri: str, text: str, line: int, chars: int) -> TypedDocument:
        """``text`` without the whole lines from ``line`` on that hold at least ``chars`` characters; the cursor
        at the start of the gap, at the end of an empty line (nothing to its right, as when writing new code).
        Typing all of ``to_type`` gives back the original text."""
        lines = text.split("\n")
        offset = sum(len(text) + 1 for text in lines[:line])
        end = offset
        for length in (len(text) + 1 for text in lines[line:]):
            if end - 1 - offset >= chars:
                break
            end += length
        return cls(uri, text[:offset] + text[end - 1 :], offset, text[offset : end - 1])

    @property
    def position(self) -> tuple[int, int]:
        before = self.text[: self.offset]
        return before.count("\n"), len(before) - (before.rfind("\n") + 1)

    def open(self, lsp: LspSession) -> None:
        lsp.open(self.uri, self.text, version=self.version)

    def type_next(self, lsp: LspSession) -> str:
        """Type the next character (one didChange, as an editor sends it) and return it."""
        char = self.to_type[self.typed]
        start = self.position
        self.text = self.text[: self.offset] + char + self.text[self.offset :]
        self.offset += 1
        self.typed += 1
        self.version += 1
        lsp.edit(self.uri, self.version, start, start, char)
        return char

    def insert(self, lsp: LspSession, text: str) -> None:
        """Insert ``text`` at the cursor in one didChange (an accepted suggestion); the cursor ends after it."""
        start = self.position
        self.text = self.text[: self.offset] + text + self.text[self.offset :]
        self.offset += len(text)
        self.version += 1
        lsp.edit(self.uri, self.version, start, start, text)

    def prompt(self, template: FimTemplate, max_prefix_chars: int, max_suffix_chars: int) -> Prompt:
        """The FIM prompt for the cursor, built by the server's own prompt stage as for the local backend (no
        repository context)."""
        window = file_window(self.text, self.offset, max_prefix_chars, max_suffix_chars)
        return render_fim_prompt(template, window, Path(self.uri).name, "python", typed_line_in_middle=True)

    def stop_rules(self, template: FimTemplate, shape: str) -> StopRules:
        line_prefix = self.text[: self.offset].rsplit("\n", 1)[-1]
        return StopRules(
            stop_strings=template.stop,
            shape=shape,  # type: ignore[arg-type]  # "line" or "block", from the inspection's JSON
            line_prefix=line_prefix,
            suffix=self.text[self.offset :],
        )
