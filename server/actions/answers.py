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
    "python": {"python", "py", "python3"}, "javascript": {"javascript", "js", "jsx"},
    "typescript": {"typescript", "ts", "tsx"}, "typescriptreact": {"tsx", "typescript", "ts"},
    "javascriptreact": {"jsx", "javascript", "js"}, "go": {"go", "golang"}, "rust": {"rust", "rs"},
    "cpp": {"cpp", "c++", "cc", "cxx"}, "csharp": {"csharp", "cs", "c#"}, "shellscript": {"bash", "sh", "shell"},
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


def trim_repeated_context(code: str, before: str, after: str, original: str) -> str:
    """Drop lines the model repeated from around the selection (at least two, and not part of the original)."""
    lines = code.split("\n")
    before_lines = before.rstrip("\n").split("\n") if before.strip() else []
    after_lines = after.split("\n") if after.strip() else []
    original_lines = original.split("\n")
    for k in range(min(len(before_lines), len(lines) - 1), 1, -1):
        if lines[:k] == before_lines[-k:] and original_lines[:k] != lines[:k]:
            lines = lines[k:]
            break
    content = lines[:-1] if lines and lines[-1] == "" else lines
    for k in range(min(len(after_lines), len(content) - 1), 1, -1):
        if content[-k:] == after_lines[:k] and original_lines[-k:] != content[-k:]:
            content = content[:-k]
            break
    return "\n".join(content) + ("\n" if lines and lines[-1] == "" else "")


def fit_to_selection(code: str, original: str) -> str:
    """Give replacement code the selection's base indentation and trailing-newline state."""
    want, have = _common_indent(original), _common_indent(code)
    if want != have and len(have) < len(want):
        extra = want[len(have):] if want.startswith(have) else want
        code = "\n".join((extra + line) if line.strip() else line for line in code.split("\n"))
    code = code.rstrip("\n")
    if original.endswith("\n"):
        code += "\n"
    return code


def replacement_for(answer: str, language: str, original: str, before: str = "", after: str = "") -> str:
    """The text that replaces ``original`` (the selection) given the model's answer."""
    code = extract_code(answer, language)
    code = trim_repeated_context(code, before, after, original)
    if not code.strip():
        raise AnswerError("the model only repeated the surrounding code")
    return fit_to_selection(code, original)
