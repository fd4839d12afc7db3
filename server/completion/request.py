"""What one completion request is about: an immutable snapshot of the document at the cursor."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Extent = Literal["line", "block"]  # how much to complete


@dataclass(frozen=True)
class CompletionRequest:
    uri: str
    path: str  # workspace-relative path shown to the model
    language_id: str
    text: str
    offset: int  # cursor position as an index into ``text``
    version: int | None = None

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]

    @property
    def line_prefix(self) -> str:
        return self.prefix.rsplit("\n", 1)[-1]

    @property
    def line_suffix(self) -> str:
        return self.suffix.split("\n", 1)[0]

    def with_inserted(self, text: str) -> CompletionRequest:
        """The request after ``text`` is inserted at the cursor (an accepted completion), cursor after it."""
        return replace(self, text=self.prefix + text + self.suffix, offset=self.offset + len(text), version=None)


@dataclass(frozen=True)
class Completion:
    id: str
    text: str
    model: str
    latency_ms: float
    cached: bool = False
    timings_ms: dict[str, float] | None = None
    quick: bool = False  # from the shorter prompt of the time budget (``budget``)
