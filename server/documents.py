"""Snapshots of open documents for the completion pipeline, with LSP positions checked and converted."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from lsprotocol import types
from pygls.workspace import Workspace

from qwen_lsp.context.syntax.languages import lsp_language_id
from qwen_lsp.context.uris import uri_to_path

from .completion.request import CompletionRequest
from .text_document import LspTextDocument


class DocumentError(ValueError):
    """The request names a document or position the server cannot use; the message says which."""


def snapshot(workspace: Workspace, uri: str, position: types.Position) -> CompletionRequest:
    document = workspace.text_documents.get(uri) or workspace.text_documents.get(unquote(uri))
    if document is None:
        raise DocumentError(f"unknown document {uri} (not opened with textDocument/didOpen)")
    if position.line < 0 or position.character < 0:
        raise DocumentError(f"negative position {position.line}:{position.character}")
    if not isinstance(document, LspTextDocument):
        raise DocumentError(f"{uri} is not an open text document")
    if position.line >= document.line_count:
        raise DocumentError(
            f"position {position.line}:{position.character} is past the end of {uri} ({document.line_count} lines)"
        )
    offset = document.offset_at_position(position)  # a character past the end of its line: the end of the line
    text = document.source
    return CompletionRequest(
        uri=uri,
        path=relative_path(workspace, uri),
        language_id=document.language_id or lsp_language_id(uri_to_path(uri)),
        text=text,
        offset=offset,
        version=document.version,
    )


def current_version(workspace: Workspace, uri: str) -> int | None:
    document = workspace.text_documents.get(uri) or workspace.text_documents.get(unquote(uri))
    return document.version if document is not None else None


def relative_path(workspace: Workspace, uri: str) -> str:
    return path_under(uri_to_path(uri), workspace_roots(workspace))


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
