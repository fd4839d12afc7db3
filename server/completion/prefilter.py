"""Decide before any model call whether to complete here, and whether one line or a block.

The syntax-aware part (strings, argument lists, block openers) is the context provider's ``completion_shape`` (from
the open document's live syntax tree);
this stage adds the per-user rules (disabled languages, ignored files) and the privacy policy: nothing is completed
inside a file it keeps out (secrets, ignored files, links leaving the workspace), so its text is never sent.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import pathspec

from qwen_lsp.context.base import ContextProvider
from qwen_lsp.context.privacy import PrivacyPolicy
from qwen_lsp.context.syntax.shape import Shape, completion_shape

from .request import CompletionRequest

log = logging.getLogger(__name__)
MAX_SYNTAX_CHECK_LINE = 10_000  # characters in the cursor's line


def _cursor_line_length(request: CompletionRequest) -> int:
    text, offset = request.text, request.offset
    end = text.find("\n", offset)
    return (len(text) if end < 0 else end) - (text.rfind("\n", 0, offset) + 1)


def decide(
    request: CompletionRequest,
    disabled_languages: list[str] | tuple[str, ...] = (),
    ignored_globs: list[str] | tuple[str, ...] = (),
    privacy: PrivacyPolicy | None = None,
    syntax_check_max_chars: int = 1 << 20,
    context: ContextProvider | None = None,
) -> Shape:
    """``Shape("none", why)`` to skip, else ``"line"`` or ``"block"`` with the reason. The syntax check asks
    ``context`` (the text parsed whole without one)."""
    if reason := whole_file_skip(request, disabled_languages, ignored_globs, privacy):
        return Shape("none", reason)
    if len(request.text) > syntax_check_max_chars or _cursor_line_length(request) > MAX_SYNTAX_CHECK_LINE:
        # parsing megabytes, or minified/generated lines (one 1 MB line of code: ~10 s), blocks the server
        return Shape("line", "too large for a syntax check")
    try:
        if context is not None:
            return context.completion_shape(request.uri, request.text, request.offset, request.language_id)
        return completion_shape(request.text, request.offset, request.language_id, request.path)
    except Exception:  # a parser problem must never block completions
        log.warning("syntax check failed for %s; completing one line", request.path, exc_info=True)
        return Shape("line", "syntax check failed")


def whole_file_skip(
    request: CompletionRequest,
    disabled_languages: list[str] | tuple[str, ...] = (),
    ignored_globs: list[str] | tuple[str, ...] = (),
    privacy: PrivacyPolicy | None = None,
) -> str | None:
    """Why nothing is completed anywhere in this file (no typing changes it), or None."""
    if privacy is not None and (reason := privacy.why_kept_out(request.uri)):
        return f"kept out by the privacy policy: {reason}"
    if request.language_id in disabled_languages:
        return f"completions disabled for {request.language_id}"
    if ignored_globs and _spec(tuple(ignored_globs)).match_file(request.path):
        return "file matches completion.ignored_globs"
    return None


@lru_cache(maxsize=8)
def _spec(globs: tuple[str, ...]) -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(globs)
