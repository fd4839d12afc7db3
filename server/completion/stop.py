"""Where to stop a streaming completion: stop strings, one line, a finished block, repeating the suffix."""

from __future__ import annotations

from dataclasses import dataclass

from qwen_lsp.context.syntax.shape import first_nonblank_line

from .request import Extent

MAX_BLOCK_LINES = 40
_CLOSERS = (")", "]", "}", "end", "fi", "esac", "</")


@dataclass(frozen=True)
class StopRules:
    stop_strings: tuple[str, ...]
    shape: Extent
    line_prefix: str  # text left of the cursor on its line
    suffix: str  # document text right of the cursor


def cut_point(text: str, rules: StopRules) -> int | None:
    """The index where ``text`` (the completion so far) must end, or None to keep generating."""
    cuts = [i for i in (text.find(s) for s in rules.stop_strings if s) if i != -1]
    stop_at = min(cuts) if cuts else None
    visible = text if stop_at is None else text[:stop_at]
    line_cut = _line_rule_cut(visible, rules)
    if line_cut is not None:
        return line_cut
    return stop_at


def _line_rule_cut(text: str, rules: StopRules) -> int | None:
    if rules.shape == "line" or rules.line_prefix.strip():
        return _single_line_cut(text)
    return _block_cut(text, rules)


def _single_line_cut(text: str) -> int | None:
    """Continuing a non-empty line: stop at the first newline once there is content."""
    newline = text.find("\n")
    while newline != -1:
        if text[:newline].strip():
            return newline
        newline = text.find("\n", newline + 1)
    return None


def _block_cut(text: str, rules: StopRules) -> int | None:
    """Writing a block: stop when a complete line dedents past the block, repeats the suffix, or too many lines."""
    lines = text.split("\n")
    complete = lines[:-1]  # the last line may still be growing
    next_suffix_line = first_nonblank_line(rules.suffix)
    base_indent: int | None = _indent(rules.line_prefix + lines[0]) if (rules.line_prefix + lines[0]).strip() else None
    offset = 0
    for index, line in enumerate(complete):
        line_start = offset
        offset += len(line) + 1
        full_line = rules.line_prefix + line if index == 0 else line
        if not full_line.strip():
            continue
        if next_suffix_line is not None and full_line.strip() == next_suffix_line.strip() and index > 0:
            return max(0, line_start - 1)
        if base_indent is None:
            base_indent = _indent(full_line)
            continue
        if index > 0 and _indent(full_line) < base_indent:
            if full_line.strip().startswith(_CLOSERS) and next_suffix_line is None:
                return offset - 1  # keep a closing line the suffix lacks
            return max(0, line_start - 1)
        if index + 1 >= MAX_BLOCK_LINES:
            return offset - 1
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))
