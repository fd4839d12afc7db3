"""What actions and the agent need from the editor's side beyond document snapshots (``server.documents``): open
documents by path, the editor's text of a file, code units."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygls.workspace import Workspace

from qwen_lsp.context.uris import uri_to_path

from ..host import Host
from .text import Units


def units(ls: Host) -> Units:
    return ls.workspace.position_codec.client_num_units


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
