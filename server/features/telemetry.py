"""Local acceptance statistics from the client: shown and partially accepted completions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..app import QwenLanguageServer

log = logging.getLogger(__name__)
DID_SHOW = "qwen/didShowCompletion"
DID_PARTIALLY_ACCEPT = "qwen/didPartiallyAcceptCompletion"


def field(params: Any, name: str, default: Any = None) -> Any:
    """Custom notifications arrive as plain objects or dicts depending on the client library."""
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


def register(server: QwenLanguageServer) -> None:
    @server.feature(DID_SHOW)
    def did_show(ls: QwenLanguageServer, params: Any) -> None:
        completion_id = field(params, "id")
        if completion_id:
            ls.stats.shown(str(completion_id))

    @server.feature(DID_PARTIALLY_ACCEPT)
    def did_partially_accept(ls: QwenLanguageServer, params: Any) -> None:
        completion_id = field(params, "id")
        accepted = field(params, "acceptedLength", 0)
        try:
            accepted = int(accepted)
        except (TypeError, ValueError):
            accepted = 0
        if completion_id:
            ls.stats.partially_accepted(str(completion_id), accepted)
