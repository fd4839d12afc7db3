"""Edits the agent makes, held in memory: nothing is written to the workspace during a run.

Reads see the staged text first, then the editor's unsaved buffer, then the file on disk. At the end the
changes become one ``WorkspaceEdit`` (with the editor's document versions, so a stale edit is refused).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..actions.answers import covered_after, covered_before
from ..actions.syntax import new_syntax_error
from ..actions.workspace_edit import FileChange
from .paths import Resolved

SourceReader = Callable[[Path], "tuple[str, int | None] | None"]


def read_from_disk(path: Path) -> tuple[str, int | None] | None:
    """A ``SourceReader`` for files no editor has open: the UTF-8 text on disk, or None."""
    try:
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError):
        return None


class EditError(ValueError):
    """An edit that cannot be staged; the message (shown to the model) says how to fix the call."""


@dataclass
class _Staged:
    original: str | None  # None: created by the agent
    version: int | None
    text: str


class StagedFiles:
    def __init__(self, read_source: SourceReader) -> None:
        self._read_source = read_source
        self._files: dict[Path, _Staged] = {}
        self.revision = 0  # bumped on every staged change (repeat detection uses it)

    def read(self, target: Resolved) -> str | None:
        staged = self._files.get(target.path)
        if staged is not None:
            return staged.text
        source = self._read_source(target.path)
        return source[0] if source is not None else None

    def exists(self, target: Resolved) -> bool:
        return target.path in self._files or target.path.exists()

    def replace(self, target: Resolved, old: str, new: str) -> tuple[int, bool]:
        """Replace the one exact occurrence of ``old`` (or, failing that, the one block of whole lines equal to
        it but for indentation, with ``new`` re-indented to match). Returns the 1-based line and whether the
        match ignored indentation."""
        text = self.read(target)
        if text is None:
            raise EditError(f"{target.rel} does not exist or cannot be read as text; use create_file for a new file")
        if not old:
            raise EditError("old_text is empty; copy the exact lines to replace from read_file (without line numbers)")
        if old == new:
            raise EditError("old_text and new_text are the same; nothing would change")
        count = text.count(old)
        if count == 0:
            loose = _match_ignoring_indentation(text, old, new)
            if loose is None:
                raise EditError(f"old_text was not found in {target.rel}. {_near_miss(text, old)}")
            start, end, replacement = loose
            self._stage(target, text[:start] + replacement + text[end:])
            return text.count("\n", 0, start) + 1, True
        if count > 1:
            lines = _match_lines(text, old)
            raise EditError(
                f"old_text occurs {count} times in {target.rel} (at lines {', '.join(map(str, lines))}); include "
                "more surrounding lines so that it matches exactly once"
            )
        index = text.index(old)
        start, end, new = absorb_repeated_lines(text, index, index + len(old), new)
        self._stage(target, text[:start] + new + text[end:])
        return text.count("\n", 0, index) + 1, False

    def create(self, target: Resolved, content: str) -> None:
        if self.exists(target):
            raise EditError(f"{target.rel} already exists; change it with edit_file")
        self._files[target.path] = _Staged(None, None, content)
        self.revision += 1

    def _stage(self, target: Resolved, text: str) -> None:
        staged = self._files.get(target.path)
        if staged is None:
            source = self._read_source(target.path)
            original, version = source if source is not None else (None, None)
            staged = self._files[target.path] = _Staged(original, version, text)
        staged.text = text
        self.revision += 1

    def staged_texts(self) -> dict[Path, str]:
        return {path: staged.text for path, staged in self._files.items() if staged.text != staged.original}

    def changes(self) -> list[FileChange]:
        return [
            FileChange(path.as_uri(), staged.original, staged.text, staged.version)
            for path, staged in sorted(self._files.items())
            if staged.text != staged.original
        ]

    def summary(self, show: Callable[[Path], str]) -> list[dict]:
        """Per changed file: path, uri, lines added/removed, whether it is new, and the first syntax error the
        changes introduced (None when it parses, was already broken, or has no known grammar)."""
        out = []
        for path, staged in sorted(self._files.items()):
            if staged.text == staged.original:
                continue
            diff = list(
                difflib.unified_diff((staged.original or "").splitlines(), staged.text.splitlines(), lineterm="", n=0)
            )
            added = sum(1 for line in diff if line.startswith("+") and not line.startswith("+++"))
            removed = sum(1 for line in diff if line.startswith("-") and not line.startswith("---"))
            out.append(
                {
                    "path": show(path),
                    "uri": path.as_uri(),
                    "added": added,
                    "removed": removed,
                    "created": staged.original is None,
                    "syntaxError": new_syntax_error(path, staged.original, staged.text),
                }
            )
        return out


def _match_lines(text: str, old: str) -> list[int]:
    lines: list[int] = []
    start = text.find(old)
    while start >= 0 and len(lines) < 10:
        lines.append(text.count("\n", 0, start) + 1)
        start = text.find(old, start + 1)
    return lines


def absorb_repeated_lines(text: str, start: int, end: int, new: str) -> tuple[int, int, str]:
    """Models often put the lines around old_text into new_text as well (a whole function body after its
    ``def`` line). When old_text is whole lines and new_text ends (or starts) with two or more of the lines
    right after (before) it, those lines are replaced too instead of being duplicated."""
    if start > 0 and text[start - 1] != "\n":
        return start, end, new
    tail = end + 1 if end < len(text) and text[end] == "\n" and not text[start:end].endswith("\n") else end
    if tail < len(text) and text[tail - 1] != "\n":
        return start, end, new
    old = text[start:end]
    after = covered_after(new, text[tail:], old)
    before = covered_before(new, text[:start], old)
    if not after and not before:
        return start, end, new
    end = tail + after if after else end
    if after and text[end - 1] == "\n" and not new.endswith("\n"):
        new += "\n"
    return start - before, end, new


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _match_ignoring_indentation(text: str, old: str, new: str) -> tuple[int, int, str] | None:
    """(start, end, replacement) for the single block of whole lines that equals ``old`` line by line once
    leading and trailing whitespace is ignored; ``new`` keeps its relative indentation under the block's."""
    wanted = [line.strip() for line in old.strip("\n").split("\n")]
    if not any(wanted):
        return None
    lines = text.split("\n")
    found = [
        i for i in range(len(lines) - len(wanted) + 1) if [x.strip() for x in lines[i : i + len(wanted)]] == wanted
    ]
    if len(found) != 1:
        return None
    first = found[0]
    start = sum(len(line) + 1 for line in lines[:first])
    end = start + len("\n".join(lines[first : first + len(wanted)]))
    new_lines = new.strip("\n").split("\n")
    base = min((len(_indent(line)) for line in new_lines if line.strip()), default=0)
    indent = _indent(lines[first])
    replacement = "\n".join(indent + line[base:] if line.strip() else "" for line in new_lines)
    return start, end, replacement


def _near_miss(text: str, old: str) -> str:
    """A hint for a failed match: the same text with other indentation, or the closest line."""
    wanted = [line.strip() for line in old.strip("\n").split("\n")]
    lines = text.split("\n")
    for i in range(len(lines) - len(wanted) + 1):
        if [line.strip() for line in lines[i : i + len(wanted)]] == wanted:
            return (
                f"The same lines exist at line {i + 1} with different indentation or spacing; copy them exactly "
                "from read_file."
            )
    close = difflib.get_close_matches(wanted[0], [line.strip() for line in lines], n=1, cutoff=0.6) if wanted[0] else []
    if close:
        number = [line.strip() for line in lines].index(close[0]) + 1
        closest = lines[number - 1].strip()
        return f"The closest line is line {number}: {closest!r}. Read the file again and copy the text exactly."
    return "Read the file again with read_file and copy the text to replace exactly."
