"""Open/change/save/close: pygls keeps the text; we tell the context provider and drop stale work."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from ..app import QwenLanguageServer


def register(server: "QwenLanguageServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: "QwenLanguageServer", params: types.DidOpenTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: "QwenLanguageServer", params: types.DidChangeTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE, types.SaveOptions(include_text=False))
    def did_save(ls: "QwenLanguageServer", params: types.DidSaveTextDocumentParams) -> None:
        _changed(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: "QwenLanguageServer", params: types.DidCloseTextDocumentParams) -> None:
        ls.inflight.cancel_document(params.text_document.uri)
        if ls.session is not None:
            ls.session.context_provider.document_closed(params.text_document.uri)


def _changed(ls: "QwenLanguageServer", uri: str) -> None:
    if ls.session is None:
        return
    document = ls.workspace.text_documents.get(uri)
    if document is not None:
        ls.session.context_provider.document_changed(uri, document.source, document.version)
