"""What actions and the agent need from the editor's side: open documents, workspace folders, code units."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pygls.workspace import Workspace

from ..documents import DocumentError, language_from_path, relative_path, uri_to_path
from .service import DocumentView
from .text import Units

if TYPE_CHECKING:
    from ..app import QwenLanguageServer


def units(ls: QwenLanguageServer) -> Units:
    return ls.workspace.position_codec.client_num_units


def workspace_roots(workspace: Workspace) -> list[Path]:
    roots = [uri_to_path(folder.uri) for folder in workspace.folders.values()]
    if not roots and workspace.root_uri:
        roots.append(uri_to_path(workspace.root_uri))
    return roots


def root_of(roots: list[Path], path: Path | None) -> Path | None:
    if path is None:
        return roots[0] if roots else None
    inside = [r for r in roots if path == r or r in path.parents]
    return max(inside, key=lambda r: len(r.parts)) if inside else None


def document_view(workspace: Workspace, uri: str) -> DocumentView:
    document = workspace.text_documents.get(uri)
    if document is None:
        raise DocumentError(f"unknown document {uri} (not opened with textDocument/didOpen)")
    path = uri_to_path(uri) if uri.startswith("file:") else None
    return DocumentView(
        uri=uri,
        path=path,
        rel_path=relative_path(workspace, uri),
        language_id=document.language_id or language_from_path(uri),
        text=document.source,
        version=document.version,
        root=root_of(workspace_roots(workspace), path),
    )


def open_documents_by_path(workspace: Workspace) -> dict[Path, Any]:
    return {uri_to_path(uri): doc for uri, doc in workspace.text_documents.items() if uri.startswith("file:")}


def read_document(workspace: Workspace, path: Path, max_bytes: int = 4 << 20) -> tuple[str, int | None] | None:
    """The editor's text of ``path`` when it is open (unsaved changes included), else the file on disk."""
    document = open_documents_by_path(workspace).get(path)
    if document is not None:
        return document.source, document.version
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:
            return None
        return path.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError):
        return None
