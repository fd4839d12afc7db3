"""Open/change/focus/save/close: pygls keeps the text; we tell the context provider and the warm-ups, and drop
stale work."""

from __future__ import annotations

from typing import Any

from lsprotocol import types

from qwen_lsp.context.uris import uri_to_path

from ..context_wiring import send_to_context
from ..documents import workspace_roots
from ..host import Host
from ..protocol.params import field

DID_FOCUS = "qwen/didFocus"


def register(server: Host) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Host, params: types.DidOpenTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)
        ls.prewarmer.warm(params.text_document.uri)  # at its last known cursor, if it was open before

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Host, params: types.DidChangeTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)
        ls.prewarmer.changed(params.text_document.uri, list(params.content_changes))

    @server.feature(DID_FOCUS)
    def did_focus(ls: Host, params: Any) -> None:
        """``{textDocument: {uri}, position?}``: the editor shows this document (Copilot's textDocument/didFocus)."""
        uri = field(field(params, "textDocument") or {}, "uri")
        position = field(params, "position")
        if not isinstance(uri, str) or ls.workspace.text_documents.get(uri) is None:
            return
        try:
            cursor = types.Position(line=int(field(position, "line")), character=int(field(position, "character")))
        except (TypeError, ValueError):
            cursor = None  # no or a malformed position: the last known cursor
        ls.prewarmer.focused(uri, cursor)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: Host, params: types.DidSaveTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)
        _files_changed(ls, [params.text_document.uri])

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: Host, params: types.DidChangeWatchedFilesParams) -> None:
        _files_changed(ls, [change.uri for change in params.changes])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(ls: Host, params: types.DidChangeWorkspaceFoldersParams) -> None:
        ls.session.set_roots(workspace_roots(ls.workspace))
        provider = ls.session.context_provider
        for folder in params.event.removed:
            provider.remove_folder(uri_to_path(folder.uri))
        for folder in params.event.added:
            provider.add_folder(uri_to_path(folder.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Host, params: types.DidCloseTextDocumentParams) -> None:
        ls.inflight.cancel_document(params.text_document.uri)
        ls.oversized_documents.discard(params.text_document.uri)
        ls.prewarmer.closed(params.text_document.uri)
        ls.session.context_provider.document_closed(params.text_document.uri)


def _changed(ls: Host, uri: str) -> None:
    document = ls.workspace.text_documents.get(uri)
    if document is not None:
        send_to_context(ls, uri, document)


def _files_changed(ls: Host, uris: list[str]) -> None:
    ls.session.context_provider.files_changed([uri_to_path(uri) for uri in uris if uri.startswith("file:")])
