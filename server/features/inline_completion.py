"""``textDocument/inlineCompletion`` (LSP 3.18): ghost text."""

from __future__ import annotations

from lsprotocol import types

from ..completion.service import complete_at
from ..host import Host

ACCEPT_COMMAND = "qwen.acceptCompletion"


def register(server: Host) -> None:
    # Registering with options is what makes pygls advertise inlineCompletionProvider.
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: Host, params: types.InlineCompletionParams) -> types.InlineCompletionList | None:
        completion = await complete_at(ls, params.text_document.uri, params.position)
        if completion is None:
            return None
        item = types.InlineCompletionItem(
            insert_text=completion.text,
            range=types.Range(start=params.position, end=params.position),
            command=types.Command(title="Accept completion", command=ACCEPT_COMMAND, arguments=[{"id": completion.id}]),
        )
        return types.InlineCompletionList(items=[item])
