"""Decide before any model call whether to complete here, and whether one line or a block.

The syntax-aware part (strings, argument lists, block openers) is the context engine's ``completion_shape``;
this stage adds the per-user rules (disabled languages, ignored files).
"""

from __future__ import annotations

import fnmatch
import logging

from qwen_lsp.context.shape import Shape, completion_shape

from .request import CompletionRequest

log = logging.getLogger(__name__)


def decide(
    request: CompletionRequest,
    disabled_languages: list[str] | tuple[str, ...] = (),
    ignored_globs: list[str] | tuple[str, ...] = (),
) -> Shape:
    """``Shape("none", why)`` to skip, else ``"line"`` or ``"block"`` with the reason."""
    if request.language_id in disabled_languages:
        return Shape("none", f"completions disabled for {request.language_id}")
    if any(fnmatch.fnmatch(request.path, glob) for glob in ignored_globs):
        return Shape("none", "file matches an ignore pattern")
    try:
        return completion_shape(request.text, request.offset, request.language_id, request.path)
    except Exception:  # a parser problem must never block completions
        log.warning("syntax check failed for %s; completing one line", request.path, exc_info=True)
        return Shape("line", "syntax check failed")
