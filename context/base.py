"""The interface between the completion pipeline and the sources of repository context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Snippet:
    """A piece of another file (or a far part of this one) worth showing the model."""

    uri: str
    path: str  # workspace-relative path shown to the model in the file header
    text: str
    start_line: int  # 0-based, inclusive
    end_line: int  # 0-based, exclusive
    source: str  # which retrieval source found it: "definition", "outline", "similar", "recent", ...
    score: float
    tokens: int = 0


@dataclass(frozen=True)
class ContextRequest:
    uri: str
    path: str  # workspace-relative path of the current file
    language_id: str
    text: str  # the whole document as the server holds it (not the file on disk)
    offset: int  # cursor offset into ``text`` (Python string index)
    line: int
    character: int  # in Python code points
    budget_tokens: int
    count_tokens: Callable[[str], int]
    prefix_start: int = (
        0  # the part of ``text`` already in the FIM prefix/suffix window; snippets inside it are dropped
    )
    suffix_end: int = -1


@dataclass
class ContextResult:
    snippets: list[Snippet] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    repo_name: str = ""


class ContextProvider(Protocol):
    """Gathers snippets for one completion request within ``request.budget_tokens``.

    Called off the event loop; must return within a few milliseconds and never raise for bad input.
    Snippets come back in a stable order (most stable first) so a local model's KV prefix cache stays valid
    between keystrokes.
    """

    def gather(self, request: ContextRequest) -> ContextResult: ...

    def document_changed(self, uri: str, text: str, version: int | None, language_id: str | None = None) -> None:
        """The server's copy of an open document changed (didOpen/didChange/didSave)."""

    def document_closed(self, uri: str) -> None: ...


class NoContext:
    """The provider used before the repository index is ready or when it is disabled."""

    def gather(self, request: ContextRequest) -> ContextResult:
        return ContextResult()

    def document_changed(self, uri: str, text: str, version: int | None, language_id: str | None = None) -> None:
        pass

    def document_closed(self, uri: str) -> None:
        pass
