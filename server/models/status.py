"""Load the backend in the background and keep the editor informed (``qwen/status`` and ``$/progress``)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING

from lsprotocol import types

from qwen_lsp.clients.base import BackendError

from .download import offer_model_download

if TYPE_CHECKING:
    from ..app import QwenLanguageServer

log = logging.getLogger(__name__)
STATUS_NOTIFICATION = "qwen/status"


def send_status(server: QwenLanguageServer, state: str, detail: str = "", progress: float | None = None) -> None:
    model = server.session.backend.name if server.session else ""
    try:
        server.protocol.notify(
            STATUS_NOTIFICATION, {"state": state, "model": model, "detail": detail, "progress": progress}
        )
    except Exception:
        log.debug("could not send status", exc_info=True)


async def load_backend(server: QwenLanguageServer) -> None:
    """Start loading the model (after offering to download a missing preset); report progress until it is
    ready or has failed."""
    assert server.session is not None
    await offer_model_download(server)
    backend = server.session.backend
    token = await _create_progress(server)
    if token:
        server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title="Loading model", message=backend.name, percentage=0)
        )
    send_status(server, "loading", backend.name, 0.0)
    loading = asyncio.ensure_future(backend.ensure_ready())
    try:
        while not loading.done():
            await asyncio.wait({loading}, timeout=0.5)
            status = backend.status()
            if token and status.progress is not None:
                server.work_done_progress.report(
                    token,
                    types.WorkDoneProgressReport(
                        message=status.detail or backend.name, percentage=int(status.progress * 100)
                    ),
                )
            send_status(server, "loading", status.detail or backend.name, status.progress)
        loading.result()
    except BackendError as error:
        server.problems.report("backend", str(error))
        send_status(server, "error", str(error))
    except Exception as error:  # an unexpected loader failure must still be visible, once
        log.exception("loading the model failed")
        server.problems.report("backend", f"loading the model failed: {error}")
        send_status(server, "error", str(error))
    else:
        server.problems.resolve("backend")
        send_status(server, "ready", backend.name, 1.0)
        log.info("model ready: %s", backend.name)
    finally:
        if token:
            server.work_done_progress.end(token, types.WorkDoneProgressEnd(message="done"))


async def _create_progress(server: QwenLanguageServer) -> str | None:
    capabilities = server.client_capabilities.window
    if not (capabilities and capabilities.work_done_progress):
        return None
    token = f"qwen-lsp-load-{uuid.uuid4().hex[:8]}"
    try:
        await asyncio.wait_for(server.work_done_progress.create_async(token), timeout=5)
    except Exception:
        log.debug("client refused a progress token", exc_info=True)
        return None
    return token
