"""Render the fill-in-the-middle prompt: repository snippets first, each file once, then the file window.

Pieces keep markers (control) apart from user text so the local backend never turns file contents into
control tokens. The order is stable between keystrokes so llama.cpp can reuse its KV cache for the shared prefix;
for the local backend the typed part of the cursor's line comes last, so typing only appends to the prompt.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from qwen_lsp.clients.base import Prompt, PromptPiece
from qwen_lsp.clients.models.fim_templates import FimTemplate
from qwen_lsp.context.base import Snippet

# Comment syntax per language for the path header of families without a file separator token.
_LINE_COMMENT = {
    "python": "#",
    "ruby": "#",
    "shellscript": "#",
    "yaml": "#",
    "toml": "#",
    "r": "#",
    "perl": "#",
    "lua": "--",
    "sql": "--",
    "haskell": "--",
}


@dataclass(frozen=True)
class FileWindow:
    """The part of the current file that goes into the prompt around the cursor."""

    prefix: str
    suffix: str
    prefix_start: int  # offset in the document where ``prefix`` begins
    suffix_end: int  # offset in the document where ``suffix`` ends


WINDOW_STEP = 512  # the prefix window's start moves in steps, so keystrokes keep the prompt's start stable


def file_window(text: str, offset: int, max_prefix_chars: int, max_suffix_chars: int) -> FileWindow:
    """Cut the prefix and suffix at line boundaries so the prompt does not start mid-line. The start of the prefix
    moves only every ``WINDOW_STEP`` characters of typing: llama.cpp reuses its KV cache for the unchanged start."""
    step = max(1, min(WINDOW_STEP, max_prefix_chars // 4))  # the window keeps at least 3/4 of its size
    start = max(0, -(-(offset - max_prefix_chars) // step) * step)
    if start > 0:
        newline = text.find("\n", start, offset)
        start = newline + 1 if newline != -1 else start
    end = min(len(text), offset + max_suffix_chars)
    if end < len(text):
        newline = text.rfind("\n", offset, end)
        end = newline + 1 if newline != -1 else end
    return FileWindow(text[start:offset], text[offset:end], start, end)


def render_fim_prompt(
    template: FimTemplate,
    window: FileWindow,
    path: str,
    language_id: str = "",
    snippets: Iterable[Snippet] = (),
    repo_name: str = "",
    typed_line_in_middle: bool = False,
    name_file: bool = False,
) -> Prompt:
    """``name_file``: the file's path even without snippets (a short prompt's only hint of the language)."""
    pieces: list[PromptPiece] = []
    files = file_blocks(snippets)
    file_sep = template.file_sep_marker if (files or name_file) else None
    if file_sep is not None:
        if template.repo_name_marker and repo_name:
            pieces += [PromptPiece(template.repo_name_marker, True), PromptPiece(repo_name + "\n")]
        for file_path, text in files:
            pieces += [PromptPiece(file_sep, True), PromptPiece(f"{file_path}\n{text}")]
        pieces += [PromptPiece(file_sep, True), PromptPiece(f"{path}\n")]
        prefix_text = window.prefix
    else:
        header = "".join(_comment_header(file_path, text, language_id) for file_path, text in files)
        prefix_text = header + window.prefix

    # ``typed_line_in_middle`` (backends that heal the last token): the typed part of the cursor's line goes after
    # the middle marker, as the start of the answer. A keystroke then only appends tokens at the end of the prompt;
    # everything before it, suffix included, stays in llama.cpp's KV cache (otherwise each keystroke re-evaluates
    # the whole suffix). Without token healing the cut token hurts quality, so the line stays in the prefix.
    typed_line = ""
    if typed_line_in_middle and template.order == "psm" and template.middle_marker:
        typed_line = prefix_text[prefix_text.rfind("\n") + 1 :]
        prefix_text = prefix_text[: len(prefix_text) - len(typed_line)]
    prefix = [PromptPiece(template.prefix_marker, True), PromptPiece(prefix_text)]
    suffix = [PromptPiece(template.suffix_marker, True), PromptPiece(window.suffix)]
    middle = [PromptPiece(template.middle_marker, True), PromptPiece(typed_line)] if template.middle_marker else []
    pieces += (prefix + suffix if template.order == "psm" else suffix + prefix) + middle
    return Prompt(tuple(p for p in pieces if p.text))


def file_blocks(snippets: Iterable[Snippet]) -> list[tuple[str, str]]:
    """(path, text) per file: consecutive snippets of one file under one header, as the repository-level format
    the model was trained on shows each file once (a header per piece read as many short files, the same path
    again and again); a piece already contained in another piece of the block is left out."""
    blocks: list[tuple[str, list[str]]] = []
    for snippet in snippets:
        text = _ends_with_newline(snippet.text)
        if not blocks or blocks[-1][0] != snippet.path:
            blocks.append((snippet.path, [text]))
            continue
        shown = blocks[-1][1]
        if any(text in piece for piece in shown):
            continue
        shown[:] = [piece for piece in shown if piece not in text] + [text]
    return [(path, "".join(pieces)) for path, pieces in blocks]


def _ends_with_newline(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _comment_header(path: str, text: str, language_id: str) -> str:
    marker = _LINE_COMMENT.get(language_id, "//")
    body = "".join(f"{marker} {line}\n" if line else f"{marker}\n" for line in text.rstrip("\n").split("\n"))
    return f"{marker} Path: {path}\n{body}"
