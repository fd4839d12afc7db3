"""``qwen/status``: what the model is doing (loading, indexing, ready, error), for the editor's status line."""

from __future__ import annotations

import logging

from ..host import Host

log = logging.getLogger(__name__)
STATUS_NOTIFICATION = "qwen/status"


def send_status(server: Host, state: str, detail: str = "", progress: float | None = None) -> None:
    model = server.session.backend.name
    try:
        server.protocol.notify(
            STATUS_NOTIFICATION, {"state": state, "model": model, "detail": detail, "progress": progress}
        )
    except Exception:
        log.debug("could not send status", exc_info=True)
