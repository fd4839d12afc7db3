"""Document snapshots: one code for completions, code actions, the agent and ``qwen-lsp complete`` (the path shown
to the model, the language, the workspace folder, positions checked and converted)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from lsprotocol import types

from qwen_lsp.server.documents import DocumentError, document_view, file_snapshot, snapshot, workspace_roots
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


def test_positions_past_the_end(tmp_path: Path) -> None:
    """A line past the end is an error; a character past the end of its line is the end of the line (LSP)."""
    uri = (tmp_path / "a.py").as_uri()
    workspace = workspace_with([tmp_path], {uri: TEXT})
    with pytest.raises(DocumentError, match="past the end"):
        snapshot(workspace, uri, types.Position(line=5, character=0))
    assert snapshot(workspace, uri, types.Position(line=0, character=99)).offset == len("import os")
    assert snapshot(workspace, uri, types.Position(line=4, character=0)).offset == len(TEXT)
    with pytest.raises(DocumentError, match="unknown document"):
        snapshot(workspace, (tmp_path / "b.py").as_uri(), types.Position(line=0, character=0))


def test_the_command_line_snapshot_is_the_servers(tmp_path: Path) -> None:
    """``qwen-lsp complete FILE:LINE:COL``: 1-based, columns in characters, LSP line breaks (\\r\\n is one)."""
    path = tmp_path / "pkg" / "app.py"
    request = file_snapshot(path, TEXT, 3, 5, tmp_path)
    assert (request.path, request.language_id, request.uri) == ("pkg/app.py", "python", path.resolve().as_uri())
    assert TEXT[request.offset :].startswith("café(")
    assert TEXT[file_snapshot(path, TEXT, 3, 13, tmp_path).offset :].startswith("\n    return")  # end of the line
    workspace = workspace_with([tmp_path], {path.resolve().as_uri(): TEXT}, "python")
    served = snapshot(workspace, path.resolve().as_uri(), types.Position(line=2, character=4))
    assert served == replace(request, version=3)  # the editor has a version; the file on disk none
    for line, column, problem in [(0, 1, "line 0"), (6, 1, "line 6"), (3, 14, "column 14"), (1, 0, "column 0")]:
        with pytest.raises(DocumentError, match=problem):
            file_snapshot(path, TEXT, line, column, tmp_path)
