"""Open/change/focus/save/close: pygls keeps the text; we tell the context provider and the warm-ups, and drop
stale work."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.workspace import TextDocument

from qwen_lsp.context.repository import RepositoryContext

from ..actions.editor import workspace_roots
from ..documents import uri_to_path
from ..text_document import LspTextDocument
from .telemetry import field

if TYPE_CHECKING:
    from ..app import QwenLanguageServer

log = logging.getLogger(__name__)

DID_FOCUS = "qwen/didFocus"


def register(server: QwenLanguageServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: QwenLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)
        ls.prewarmer.warm(params.text_document.uri)  # at its last known cursor, if it was open before

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: QwenLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)
        ls.prewarmer.changed(params.text_document.uri, list(params.content_changes))

    @server.feature(DID_FOCUS)
    def did_focus(ls: QwenLanguageServer, params: Any) -> None:
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
    def did_save(ls: QwenLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)
        _files_changed(ls, [params.text_document.uri])

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched_files(ls: QwenLanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
        _files_changed(ls, [change.uri for change in params.changes])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_workspace_folders(ls: QwenLanguageServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        if ls.session is not None:
            ls.session.set_roots(workspace_roots(ls.workspace))
        provider = ls.session.context_provider if ls.session else None
        if not isinstance(provider, RepositoryContext):
            return
        for folder in params.event.removed:
            provider.remove_folder(uri_to_path(folder.uri))
        for folder in params.event.added:
            provider.add_folder(uri_to_path(folder.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: QwenLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.inflight.cancel_document(params.text_document.uri)
        ls.oversized_documents.discard(params.text_document.uri)
        ls.prewarmer.closed(params.text_document.uri)
        if ls.session is not None:
            ls.session.context_provider.document_closed(params.text_document.uri)


def _changed(ls: QwenLanguageServer, uri: str) -> None:
    document = ls.workspace.text_documents.get(uri)
    if document is not None:
        send_to_context(ls, uri, document)


def send_to_context(ls: QwenLanguageServer, uri: str, document: TextDocument) -> None:
    """Give an open document to the context engine, unless it is larger than ``context.max_file_kb`` (the limit
    for indexing): the engine re-parses a document per edit, which for a file of megabytes blocks the server for
    seconds. Such a document still gets completions from the text around the cursor; one message says so."""
    if ls.session is None:
        return
    provider = ls.session.context_provider
    limit_kb = ls.session.settings.context.max_file_kb
    size = document.length if isinstance(document, LspTextDocument) else len(document.source)
    if size <= limit_kb * 1024:
        ls.oversized_documents.discard(uri)
        provider.document_changed(uri, document.source, document.version, document.language_id)
        return
    if uri not in ls.oversized_documents:
        ls.oversized_documents.add(uri)
        log.warning(
            "%s is larger than context.max_file_kb (%d KB): completions there use the text around the "
            "cursor only, and it is left out of the repository context",
            uri,
            limit_kb,
        )
        provider.document_closed(uri)  # forget the smaller version it may have had


def _files_changed(ls: QwenLanguageServer, uris: list[str]) -> None:
    provider = ls.session.context_provider if ls.session else None
    if isinstance(provider, RepositoryContext):
        provider.files_changed([uri_to_path(uri) for uri in uris if uri.startswith("file:")])
