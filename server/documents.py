"""Snapshots of documents: what completions, code actions, the agent and ``qwen-lsp complete`` see of a document
(its text, language, workspace folder and the path shown to the model), with positions checked and converted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import PositionCodec, TextDocument, Workspace

from qwen_lsp.context.syntax.languages import lsp_language_id
from qwen_lsp.context.uris import uri_to_path

from .completion.request import CompletionRequest
from .text_document import LspTextDocument, line_content


class DocumentError(ValueError):
    """The request names a document or position the server cannot use; the message says which."""


@dataclass(frozen=True)
class DocumentView:
    uri: str
    path: Path | None  # on disk, for file: URIs
    rel_path: str  # shown to the model
    language_id: str
    text: str
    version: int | None
    root: Path | None = None  # the workspace folder holding the file


def workspace_roots(workspace: Workspace) -> list[Path]:
    """The workspace folders; the root URI when the client named no folders."""
    roots = [uri_to_path(folder.uri) for folder in workspace.folders.values()]
    if not roots and workspace.root_uri:
        roots.append(uri_to_path(workspace.root_uri))
    return roots


def root_of(roots: list[Path], path: Path) -> Path | None:
    """The workspace folder holding ``path``: the innermost one (as the context engine's index decides)."""
    inside = [r for r in roots if path == r or r in path.parents]
    return max(inside, key=lambda r: len(r.parts)) if inside else None


def path_under(path: Path, roots: list[Path]) -> str:
    """The path shown to the model: relative to the folder holding it, else the file name."""
    root = root_of(roots, path)
    return path.relative_to(root).as_posix() if root is not None and root != path else path.name


def find_document(workspace: Workspace, uri: str) -> TextDocument | None:
    return workspace.text_documents.get(uri) or workspace.text_documents.get(unquote(uri))


def open_document(workspace: Workspace, uri: str) -> TextDocument:
    document = find_document(workspace, uri)
    if document is None:
        raise DocumentError(f"unknown document {uri} (not opened with textDocument/didOpen)")
    return document


def view_of(document: TextDocument, roots: list[Path]) -> DocumentView:
    uri = document.uri
    named = uri_to_path(uri)  # for an untitled document, its name
    path = named if uri.startswith("file:") else None
    # an untitled document: the first folder stands for its place
    root = root_of(roots, path) if path is not None else (roots[0] if roots else None)
    return DocumentView(
        uri=uri,
        path=path,
        rel_path=path_under(named, roots),
        language_id=document.language_id or lsp_language_id(named),
        text=document.source,
        version=document.version,
        root=root,
    )


def document_view(workspace: Workspace, uri: str) -> DocumentView:
    return view_of(open_document(workspace, uri), workspace_roots(workspace))


def offset_in(document: TextDocument, position: types.Position) -> int:
    """The string index of a client position; a character past the end of its line means the end of the line."""
    if position.line < 0 or position.character < 0:
        raise DocumentError(f"negative position {position.line}:{position.character}")
    if not isinstance(document, LspTextDocument):
        raise DocumentError(f"{document.uri} is not an open text document")
    if position.line >= document.line_count:
        raise DocumentError(
            f"position {position.line}:{position.character} is past the end of {document.uri} "
            f"({document.line_count} lines)"
        )
    return document.offset_at_position(position)


def completion_request(view: DocumentView, offset: int) -> CompletionRequest:
    return CompletionRequest(view.uri, view.rel_path, view.language_id, view.text, offset, view.version)


def snapshot(workspace: Workspace, uri: str, position: types.Position) -> CompletionRequest:
    document = open_document(workspace, uri)
    offset = offset_in(document, position)
    return completion_request(view_of(document, workspace_roots(workspace)), offset)


def file_snapshot(path: Path, text: str, line: int, column: int, root: Path) -> CompletionRequest:
    """``text`` of the file ``path`` at a 1-based line and column (in characters), as the server would see it open
    there; a position outside the text (a column past the end of its line too) is an error."""
    codec = PositionCodec(types.PositionEncodingKind.Utf32)  # columns count characters
    document = LspTextDocument(path.resolve().as_uri(), text, position_codec=codec)
    if not 1 <= line <= document.line_count:
        raise DocumentError(f"line {line} is outside the file (1..{document.line_count})")
    width = len(line_content(document.lines[line - 1])) if line <= len(document.lines) else 0
    if not 1 <= column <= width + 1:
        raise DocumentError(f"column {column} is outside line {line} (1..{width + 1})")
    offset = offset_in(document, types.Position(line=line - 1, character=column - 1))
    return completion_request(view_of(document, [root]), offset)


def current_version(workspace: Workspace, uri: str) -> int | None:
    document = find_document(workspace, uri)
    return document.version if document is not None else None
