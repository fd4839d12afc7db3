"""What an editor does with a ``WorkspaceEdit``, for end-to-end tests that play the client."""

from __future__ import annotations

from typing import Any, Union

from lsprotocol import converters, types

from qwen_lsp.server.actions.workspace_edit import apply_text_edits

_converter = converters.get_converter()


def as_workspace_edit(value: Any) -> types.WorkspaceEdit:
    """A command result arrives as plain JSON; resolve results are already structured."""
    if isinstance(value, types.WorkspaceEdit):
        return value
    if not isinstance(value, dict):
        value = _converter.unstructure(value)
    return _converter.structure(value, types.WorkspaceEdit)


def apply_workspace_edit(edit: types.WorkspaceEdit, texts: dict[str, str]) -> dict[str, str]:
    """New texts by URI; ``texts`` holds the current ones (files the edit creates start empty)."""
    out = dict(texts)
    for uri, edits in (edit.changes or {}).items():
        out[uri] = apply_text_edits(out[uri], list(edits))
    for change in edit.document_changes or []:
        if isinstance(change, types.CreateFile):
            assert change.uri not in out, f"{change.uri} already exists"
            out[change.uri] = ""
        elif isinstance(change, types.TextDocumentEdit):
            uri = change.text_document.uri
            out[uri] = apply_text_edits(out[uri], list(change.edits))
        else:
            raise AssertionError(f"unexpected change {change!r}")
    return out


def structure_code_actions_like_editors(client: Any) -> None:
    """lsprotocol's client-side hook reads any item with a ``command`` key as a bare ``Command``; editors
    (VS Code's ``Command.is``, Neovim) look for a string there. Make the test client do what editors do."""
    converter = client.protocol._converter

    def hook(value: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(value.get("command"), str):
            return converter.structure(value, types.Command)
        return converter.structure(value, types.CodeAction)

    converter.register_structure_hook(Union[types.Command, types.CodeAction], hook)  # noqa: UP007 - the key lsprotocol looks up
