"""``textDocument/completion`` for clients without inline completion: the same completion as one item."""

from __future__ import annotations

from lsprotocol import types

from ..completion.service import complete_at, completes_in_file
from ..host import Host
from .inline_completion import ACCEPT_COMMAND


def client_has_inline_completion(ls: Host) -> bool:
    text_document = ls.client_capabilities.text_document
    return bool(text_document and text_document.inline_completion is not None)


def register(server: Host) -> None:
    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(resolve_provider=False))
    async def completion(ls: Host, params: types.CompletionParams) -> types.CompletionList | None:
        if client_has_inline_completion(ls):
            return None  # the client shows ghost text instead; do not duplicate it in the menu
        result = await complete_at(ls, params.text_document.uri, params.position)
        if result is None:  # ask again as the user types, unless nothing in this file is ever completed
            return types.CompletionList(
                is_incomplete=completes_in_file(ls, params.text_document.uri, params.position), items=[]
            )
        first_line = result.text.strip().split("\n", 1)[0]
        item = types.CompletionItem(
            label=first_line[:60] or result.text[:60],
            kind=types.CompletionItemKind.Snippet,
            detail=f"qwen-lsp ({result.model})",
            documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"```\n{result.text}\n```"),
            text_edit=types.TextEdit(
                range=types.Range(start=params.position, end=params.position), new_text=result.text
            ),
            sort_text="0",
            command=types.Command(title="Accept completion", command=ACCEPT_COMMAND, arguments=[{"id": result.id}]),
        )
        return types.CompletionList(is_incomplete=True, items=[item])
