"""Clean a finished completion: fences and prose, overlap with the suffix, repeats of the next lines."""

from __future__ import annotations

import re

_FENCE_LINE = re.compile(r"^\s*```")
_BLOCK_OPENER = re.compile(r"([:{(\[]|=>|\bdo|\bthen)\s*$")


def postprocess(completion: str, line_prefix: str, suffix: str, previous_line: str | None = None) -> str:
    """The text to insert at the cursor, or "" when nothing useful is left. ``previous_line`` is the last
    non-blank line before the cursor's line, when known."""
    # Only the start of the suffix can overlap or be repeated: splitting a 20 MB suffix took a second.
    suffix = suffix[: 64 * len(completion) + 4096]
    text = _drop_fence_and_after(completion)
    text = _cut_repeated_lines(text, line_prefix, previous_line)
    text = _drop_doubled_indent(text, line_prefix, previous_line)
    text = _trim_trailing_blank_lines(text)
    text = _trim_suffix_overlap(text, suffix)
    if not text.strip():
        return ""
    if _repeats_next_lines(text, suffix):
        return ""
    if not line_prefix.strip() and "\n" not in text:
        return text.rstrip()
    return text


def _drop_fence_and_after(text: str) -> str:
    """Instruct models close an imagined code fence and then chat; nothing from the fence on is code."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if _FENCE_LINE.match(line):
            return "\n".join(lines[:index])
    return text


_LOOP_MIN_CHARS = 8  # "}", "pass", "end" and "return x" legitimately follow themselves


def _cut_repeated_lines(text: str, line_prefix: str, previous_line: str | None) -> str:
    """Small models fall into loops, typing the line above the cursor or their own last line again and again:
    cut at the first line that repeats the one before it."""
    lines = text.split("\n")
    before = previous_line.strip() if previous_line is not None else ""
    for index, line in enumerate(lines):
        stripped = (line_prefix + line if index == 0 else line).strip()
        if len(stripped) >= _LOOP_MIN_CHARS and stripped == before:
            return "\n".join(lines[:index])
        before = stripped or before
    return text


def _drop_doubled_indent(text: str, line_prefix: str, previous_line: str | None) -> str:
    """The cursor already sits after the line's indentation and nothing opens a deeper block: indentation the
    model writes again would double it (seen in HumanEval single-line infilling)."""
    if previous_line is None or not line_prefix or line_prefix.strip():
        return text
    if _BLOCK_OPENER.search(previous_line.split("#", 1)[0].rstrip()):
        return text
    return text.lstrip(" \t")


def _trim_trailing_blank_lines(text: str) -> str:
    stripped = text.rstrip()
    if "\n" not in text:
        return text.rstrip("\n") if text.strip() else text
    return stripped


def _trim_suffix_overlap(text: str, suffix: str) -> str:
    """Drop the end of the completion that the document already has right after the cursor."""
    line_suffix = suffix.split("\n", 1)[0]
    if line_suffix.strip():
        # e.g. completion "x + 1)" before an existing ")": keep "x + 1".
        for size in range(min(len(line_suffix), len(text)), 0, -1):
            if text.endswith(line_suffix[:size]) and line_suffix[:size].strip():
                return text[: len(text) - size]
    suffix_lines = [line for line in suffix.split("\n") if line.strip()]
    if not suffix_lines:
        return text
    lines = text.split("\n")
    # Whole lines at the end of the completion that repeat the lines after the cursor.
    for count in range(min(len(lines), len(suffix_lines)), 0, -1):
        tail = [line.strip() for line in lines[-count:]]
        if tail == [line.strip() for line in suffix_lines[:count]] and count < len(lines):
            return "\n".join(lines[:-count]).rstrip()
    return text


def _repeats_next_lines(text: str, suffix: str) -> bool:
    """A completion that only re-types what already follows the cursor is noise."""
    compact = "".join(text.split())
    following = "".join(suffix.split())
    return bool(compact) and following.startswith(compact)
