"""The shorter prompt for a cold file: when the full prompt (repository context + file window) cannot be evaluated
within ``completion.prompt_budget_ms``, the first answer comes from the lines around the cursor alone, and the full
prompt is warmed in the background for the next keystrokes (see ``server.prewarm``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from .prompt import FileWindow, file_window

MIN_PREFIX_CHARS = 100  # below this the answer is no better than none: stop shrinking


class WindowLimits(Protocol):
    @property
    def max_prefix_chars(self) -> int: ...
    @property
    def max_suffix_chars(self) -> int: ...
    @property
    def prompt_budget_ms(self) -> int: ...


def quick_window(
    text: str, offset: int, limits: WindowLimits, estimate_ms: Callable[[FileWindow], float]
) -> FileWindow:
    """The largest of the halved file windows whose prompt ``estimate_ms`` says fits the budget (the smallest
    one tried when none does). The suffix gets a quarter of the prefix: the lines before the cursor matter most."""
    prefix_chars = max(MIN_PREFIX_CHARS, limits.max_prefix_chars // 2)
    while True:
        window = file_window(text, offset, prefix_chars, min(limits.max_suffix_chars, prefix_chars // 4))
        if prefix_chars <= MIN_PREFIX_CHARS or estimate_ms(window) <= limits.prompt_budget_ms:
            return window
        prefix_chars = max(MIN_PREFIX_CHARS, prefix_chars // 2)
