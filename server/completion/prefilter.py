"""Decide before any model call whether to complete here, and whether one line or a block."""

from __future__ import annotations

import fnmatch
import logging
import re

from .request import CompletionRequest, Shape

log = logging.getLogger(__name__)

# Text right of the cursor that still allows a completion: closing brackets, quotes, separators.
_TRIVIAL_LINE_SUFFIX = re.compile(r"^[\s)\]}>\"'`;:,.]*$")
_BLOCK_OPENER = re.compile(r"(:|\{|\(|\[|=>|\bdo|\bthen)\s*$")


def skip_reason(
    request: CompletionRequest,
    disabled_languages: list[str] | tuple[str, ...] = (),
    ignored_globs: list[str] | tuple[str, ...] = (),
) -> str | None:
    """Why no completion should be asked for, or None to go ahead."""
    if request.language_id in disabled_languages:
        return f"completions disabled for {request.language_id}"
    if any(fnmatch.fnmatch(request.path, g) for g in ignored_globs):
        return "file matches an ignore pattern"
    if not _TRIVIAL_LINE_SUFFIX.match(request.line_suffix):
        return "non-trivial text right of the cursor"
    line_prefix = request.line_prefix
    if line_prefix and request.line_suffix[:1].isalnum() and line_prefix[-1:].isalnum():
        return "in the middle of a word"
    syntax_reason = _syntax_skip_reason(request)
    if syntax_reason:
        return syntax_reason
    return None


def completion_shape(request: CompletionRequest) -> Shape:
    """One line or a whole block: blocks where the cursor starts an empty body (after ``def …:``, ``{``)."""
    syntax_shape = _syntax_shape(request)
    if syntax_shape is not None:
        return syntax_shape
    line_prefix = request.line_prefix
    if line_prefix.strip() == "":
        previous = request.prefix[: len(request.prefix) - len(line_prefix)].rstrip("\n").rsplit("\n", 1)[-1]
        if _BLOCK_OPENER.search(previous) or previous.strip() == "":
            return "block"
    return "line"


def _syntax_skip_reason(request: CompletionRequest) -> str | None:
    shape = _tree_sitter_shape(request)
    if shape is not None and shape[0] == "none":
        return shape[1] or "syntax says no completion here"
    return None


def _syntax_shape(request: CompletionRequest) -> Shape | None:
    shape = _tree_sitter_shape(request)
    if shape is None or shape[0] == "none":
        return None
    return shape[0]  # type: ignore[return-value]


def _tree_sitter_shape(request: CompletionRequest) -> tuple[str, str] | None:
    """The repository context engine's syntax-aware decision, when it knows the language."""
    try:
        from qwen_lsp.context.shape import completion_shape as syntax_completion_shape
    except ImportError:
        return None
    try:
        result = syntax_completion_shape(request.text, request.offset, request.language_id)
    except Exception:  # a parser problem must never block completions
        log.debug("syntax shape failed", exc_info=True)
        return None
    if result is None:
        return None
    if isinstance(result, tuple):
        return (str(result[0]), str(result[1]) if len(result) > 1 else "")
    return (str(result), "")
