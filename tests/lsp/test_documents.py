"""Document snapshots: the workspace folders and the folder holding a document, one answer for completions, code
actions and the agent."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from qwen_lsp.server.actions.editor import document_view
from qwen_lsp.server.documents import snapshot, workspace_roots
from qwen_lsp.server.text_document import LspWorkspace

TEXT = "import os\r\n\ndef café(x):\n    return x\n"


def workspace_with(folders: list[Path], documents: dict[str, str], language_id: str = "") -> LspWorkspace:
    named = [types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders]
    workspace = LspWorkspace(folders[0].as_uri() if folders else None, workspace_folders=named)
    for uri, text in documents.items():
        workspace.put_text_document(types.TextDocumentItem(uri=uri, language_id=language_id, version=3, text=text))
    return workspace


def test_completions_and_actions_see_the_same_document(tmp_path: Path) -> None:
    """Nested folders: the innermost holds the file (as the context index decides), for completions and actions."""
    outer, inner = tmp_path / "repo", tmp_path / "repo" / "pkg"
    uri = (inner / "src" / "app.py").as_uri()
    workspace = workspace_with([outer, inner], {uri: TEXT})
    request = snapshot(workspace, uri, types.Position(line=2, character=4))
    view = document_view(workspace, uri)
    assert request.path == view.rel_path == "src/app.py"
    assert view.root == inner and view.path == inner / "src" / "app.py"
    assert request.language_id == view.language_id == "python"  # no languageId sent: from the file name
    assert request.text == view.text == TEXT and request.version == view.version == 3
    assert TEXT[request.offset :].startswith("café(")


def test_untitled_documents_and_files_outside_the_folders(tmp_path: Path) -> None:
    elsewhere = (tmp_path / "elsewhere" / "tool.rs").as_uri()
    workspace = workspace_with([tmp_path / "repo"], {"untitled:Untitled-1": "x", elsewhere: "fn main() {}"}, "")
    untitled = document_view(workspace, "untitled:Untitled-1")
    assert (untitled.path, untitled.rel_path, untitled.root) == (None, "Untitled-1", tmp_path / "repo")
    outside = document_view(workspace, elsewhere)
    assert (outside.rel_path, outside.root, outside.language_id) == ("tool.rs", None, "rust")


def test_workspace_roots_fall_back_to_the_root_uri(tmp_path: Path) -> None:
    assert workspace_roots(LspWorkspace(tmp_path.as_uri())) == [tmp_path]
    assert workspace_roots(LspWorkspace(None)) == []
