"""Turning an instruct model's answer into the code to put in the editor.

Instruct models wrap code in prose and fences, sometimes with a language tag, sometimes without the closing fence
(the answer ran out of tokens), sometimes repeating the code around the selection, and thinking models put
``<think>…</think>`` first. These pure functions take all of that apart; thinking text never reaches an edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CHAT_TOKENS = re.compile(r"<\|(?:im_end|im_start|endoftext|fim_pad|file_sep)\|>")
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n`]*$", re.MULTILINE)
_PROSE = re.compile(r"^[A-Z][^(){}\[\]=;<>`'\"#]*[:.!]$")
_LANGUAGE_TAGS = {
    "python": {"python", "py", "python3"},
    "javascript": {"javascript", "js", "jsx"},
    "typescript": {"typescript", "ts", "tsx"},
    "typescriptreact": {"tsx", "typescript", "ts"},
    "javascriptreact": {"jsx", "javascript", "js"},
    "go": {"go", "golang"},
    "rust": {"rust", "rs"},
    "cpp": {"cpp", "c++", "cc", "cxx"},
    "csharp": {"csharp", "cs", "c#"},
    "shellscript": {"bash", "sh", "shell"},
}


class AnswerError(ValueError):
    """The answer holds nothing usable; the message says why (shown to the user)."""


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str
    closed: bool


def strip_thinking(text: str) -> str:
    """The answer without thinking text. An unterminated ``<think>`` means the model never answered."""
    text = _CHAT_TOKENS.sub("", text)
    text = _THINK_BLOCK.sub("", text)
    if "</think>" in text:  # some chat templates open the thinking block themselves
        text = text.rsplit("</think>", 1)[1]
    if "<think>" in text:
        text = text.split("<think>", 1)[0]
    return text.lstrip("\n")


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced blocks in order; a last block without its closing fence runs to the end of the text."""
    blocks: list[CodeBlock] = []
    pos = 0
    while True:
        opening = _FENCE.search(text, pos)
        if opening is None:
            return blocks
        fence, tag = opening.group(1), opening.group(2).lower()
        body_start = opening.end() + 1
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
        end = closing.search(text, body_start)
        if end is None:
            blocks.append(CodeBlock(tag, text[body_start:], closed=False))
            return blocks
        blocks.append(CodeBlock(tag, text[body_start : end.start()], closed=True))
        pos = end.end()


def _pick(blocks: list[CodeBlock], language: str) -> CodeBlock:
    tags = _LANGUAGE_TAGS.get(language, {language})
    matching = [b for b in blocks if b.language in tags]
    pool = [b for b in (matching or blocks) if b.code.strip()] or blocks
    closed = [b for b in pool if b.closed]
    return max(closed or pool, key=lambda b: len(b.code))


def _without_prose(text: str) -> str:
    """Leading and trailing prose lines ("Here is the refactored code:") around unfenced code."""
    lines = text.split("\n")
    while lines and (not lines[0].strip() or (_PROSE.match(lines[0]) and len(lines[0].split()) >= 3)):
        lines.pop(0)
    while lines and (not lines[-1].strip() or (_PROSE.match(lines[-1]) and len(lines[-1].split()) >= 4)):
        lines.pop()
    return "\n".join(lines)


def extract_code(answer: str, language: str = "") -> str:
    """The code in an answer: the best fenced block (matching language, closed, longest), else the answer
    without surrounding prose."""
    text = strip_thinking(answer)
    blocks = code_blocks(text)
    code = _pick(blocks, language).code if blocks else _without_prose(text)
    if not code.strip():
        raise AnswerError("the model's answer contained no code")
    return code


def extract_markdown(answer: str) -> str:
    text = strip_thinking(answer).strip()
    if not text:
        raise AnswerError("the model's answer was empty")
    return text


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]


def _common_indent(text: str) -> str:
    indents = [_indent(line) for line in text.split("\n") if line.strip()]
    if not indents:
        return ""
    common = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(common):
            common = common[:-1]
    return common


def _nonblank(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if line.strip()]


def covered_before(code: str, before: str, original: str) -> int:
    """How many characters at the end of ``before`` the answer rewrites as well.

    Small models often answer with the selection's surroundings too (the whole class around a method, with
    docstrings added to its other methods). When the answer starts with a line of the code shown before the
    selection, and at least two lines match there (one is enough for the line right before the selection),
    the edit covers from that line on instead of duplicating it.
    """
    lines, before_lines = code.split("\n"), before.split("\n")[:-1]  # ``before`` ends at a line start
    starts, own = _nonblank(lines), _nonblank(original.split("\n"))
    if not starts or not before_lines or (own and lines[starts[0]] == original.split("\n")[own[0]]):
        return 0
    first, nearest = starts[0], (_nonblank(before_lines) or [-1])[-1]
    for j in range(len(before_lines) - 1, -1, -1):
        k = 0
        while first + k < len(lines) and j + k < len(before_lines) and lines[first + k] == before_lines[j + k]:
            k += 1
        if k >= 2 or (k == 1 and j == nearest):
            return len(before) - sum(len(line) + 1 for line in before_lines[:j])
    return 0


def covered_after(code: str, after: str, original: str) -> int:
    """The same at the other end: characters at the start of ``after`` the answer rewrites as well."""
    lines, after_lines = code.rstrip("\n").split("\n"), after.split("\n")
    ends, own = _nonblank(lines), _nonblank(original.split("\n"))
    if not ends or not after.strip() or (own and lines[ends[-1]] == original.split("\n")[own[-1]]):
        return 0
    last, nearest = ends[-1], (_nonblank(after_lines) or [-1])[0]
    for j in range(len(after_lines)):
        k = 0
        while last - k >= 0 and j - k >= 0 and lines[last - k] == after_lines[j - k]:
            k += 1
        if k >= 2 or (k == 1 and j == nearest):
            return min(len(after), sum(len(line) + 1 for line in after_lines[: j + 1]))
    return 0


def fit_to_selection(code: str, original: str) -> str:
    """Give replacement code the selection's base indentation and trailing-newline state."""
    want, have = _common_indent(original), _common_indent(code)
    if want != have and len(have) < len(want):
        extra = want[len(have) :] if want.startswith(have) else want
        code = "\n".join((extra + line) if line.strip() else line for line in code.split("\n"))
    code = code.rstrip("\n")
    if original.endswith("\n"):
        code += "\n"
    return code


@dataclass(frozen=True)
class Replacement:
    """``text`` replaces the selection plus ``before_chars`` characters before it and ``after_chars`` after it."""

    text: str
    before_chars: int = 0
    after_chars: int = 0


def replacement_for(answer: str, language: str, original: str, before: str = "", after: str = "") -> Replacement:
    """What replaces the selection given the model's answer; ``before``/``after`` are the surroundings the model
    was shown."""
    code = extract_code(answer, language)
    before_chars = covered_before(code, before, original)
    after_chars = covered_after(code, after, original)
    region = before[len(before) - before_chars :] + original + after[:after_chars]
    return Replacement(fit_to_selection(code, region), before_chars, after_chars)
