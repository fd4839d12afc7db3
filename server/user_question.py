"""Asking the user a yes/no question through the editor (``window/showMessageRequest`` with two buttons)."""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types

log = logging.getLogger(__name__)


async def ask_user(
    server: Any, question: str, yes: str, no: str, kind: types.MessageType = types.MessageType.Info
) -> bool:
    """True only when the user picks ``yes``: a dismissed prompt, or a client that fails the request, means no
    (nothing runs, applies or downloads unasked)."""
    params = types.ShowMessageRequestParams(
        type=kind, message=question, actions=[types.MessageActionItem(title=yes), types.MessageActionItem(title=no)]
    )
    try:
        answer = await server.window_show_message_request_async(params)
    except Exception as error:
        log.info("window/showMessageRequest failed: %s", error)
        return False
    return answer is not None and answer.title == yes
