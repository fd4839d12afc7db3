"""The interface between the completion pipeline and the sources of repository context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .syntax.shape import Shape


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


@dataclass(frozen=True)
class SymbolDefinition:
    """Where a symbol is defined, for the agent's symbol lookup."""

    key: str  # the file: its absolute path ('/'-separated), or the URI of a document that is not a file
    line: int  # 0-based
    kind: str  # "function", "class", "method", ...
    name: str


@dataclass(frozen=True)
class EditorDefinition:
    """Where the editor's own language server (pyright, gopls, tsserver...) says a symbol near the cursor is
    defined: a location only; the context engine reads the text itself, under the privacy policy."""

    name: str
    uri: str
    line: int  # 0-based line of the definition's range start
    character: int


@dataclass
class ContextResult:
    snippets: list[Snippet] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    repo_name: str = ""


class ContextProvider(Protocol):
    """Gathers snippets for one completion request within ``request.budget_tokens``, and follows the workspace.

    ``gather`` is called off the event loop; it must return within a few milliseconds and never raise for bad
    input. Snippets come back in a stable order (most stable first) so a local model's KV prefix cache stays valid
    between keystrokes. The other members are called on the event loop and must not block it: they schedule work.
    Their results (e.g. a future of the scheduled work) are not used by the server.
    """

    def gather(self, request: ContextRequest) -> ContextResult: ...

    def document_changed(self, uri: str, text: str, version: int | None, language_id: str | None = None) -> None:
        """The server's copy of an open document changed (didOpen/didChange/didSave)."""

    def document_closed(self, uri: str) -> None: ...

    def completion_shape(self, uri: str, text: str, offset: int, language_id: str | None = None) -> Shape:
        """Whether to complete at ``offset`` of ``text`` (the document at ``uri``, or a variant of it) and how much:
        from the open document's syntax tree, so that a keystroke re-parses only what it changed."""
        ...

    def add_folder(self, folder: Path) -> object:
        """A workspace folder was added (didChangeWorkspaceFolders)."""

    def remove_folder(self, folder: Path) -> object:
        """A workspace folder was removed: nothing from it may be gathered any more."""

    def files_changed(self, paths: list[Path]) -> object:
        """Files created, changed or deleted on disk (didChangeWatchedFiles, didSave)."""

    def find_definitions(self, name: str) -> list[SymbolDefinition]:
        """Where ``name`` is defined in the workspace (the agent's symbol lookup); [] when nothing is indexed."""

    def editor_definitions(self, uri: str, line: int, definitions: list[EditorDefinition]) -> None:
        """What the editor's language server reports for the symbols around ``line`` of the open document ``uri``
        (``qwen/editorDefinitions``): replaces the previous set of that document; [] forgets it."""

    def stop(self, save_timeout: float = 30.0) -> None:
        """Stop background work and save what a warm restart needs, within about ``save_timeout`` seconds (shutdown,
        exit). A second call does nothing."""


class NoContext:
    """The provider used before the repository index is ready or when it is disabled: no folders, no index, no
    snippets, but the open documents' syntax trees for the completion shape."""

    def __init__(self) -> None:
        from .documents import OpenDocuments

        self.documents = OpenDocuments()

    def gather(self, request: ContextRequest) -> ContextResult:
        return ContextResult()

    def document_changed(self, uri: str, text: str, version: int | None, language_id: str | None = None) -> None:
        self.documents.change(uri, text, version, language_id)

    def document_closed(self, uri: str) -> None:
        self.documents.close(uri)

    def completion_shape(self, uri: str, text: str, offset: int, language_id: str | None = None) -> Shape:
        return self.documents.completion_shape(uri, text, offset, language_id)

    def add_folder(self, folder: Path) -> None:
        pass

    def remove_folder(self, folder: Path) -> None:
        pass

    def files_changed(self, paths: list[Path]) -> None:
        pass

    def find_definitions(self, name: str) -> list[SymbolDefinition]:
        return []

    def editor_definitions(self, uri: str, line: int, definitions: list[EditorDefinition]) -> None:
        pass

    def stop(self, save_timeout: float = 30.0) -> None:
        pass
