"""Serve one completion request end to end: snapshot, debounce, latest-wins, pipeline, stale check, stats.

Shared by ``textDocument/inlineCompletion`` and the ``textDocument/completion`` fallback.
"""

from __future__ import annotations

import asyncio
import logging

from lsprotocol import types

from qwen_lsp.clients.base import BackendError

from ..documents import DocumentError, current_version, snapshot
from ..host import Host
from .request import Completion

log = logging.getLogger(__name__)


async def complete_at(ls: Host, uri: str, position: types.Position) -> Completion | None:
    """The completion to show at ``position``, or None (nothing useful, superseded, stale, or an error that
    has been reported)."""
    session = ls.session
    if not session.settings.completion.enabled:
        return None
    try:
        request = snapshot(ls.workspace, uri, position)
    except DocumentError as error:
        log.warning("inline completion: %s", error)
        return None

    ls.prewarmer.request_started(uri)
    with ls.inflight.latest(uri) as cancel:
        try:
            await asyncio.sleep(session.settings.completion.debounce_ms / 1000)
            if cancel.is_set():
                return None  # a newer request for this document arrived while we waited
            completion = await session.pipeline.complete(request, cancel)
        except asyncio.CancelledError:
            cancel.set()
            raise
        except BackendError as error:
            if not ls.model_downloads.active:  # a missing model being offered or downloaded is not an error yet
                ls.problems.report("backend", str(error))
            return None
        except Exception:
            log.exception("inline completion failed at %s:%s:%s", uri, position.line, position.character)
            return None
        if not ls.inflight.is_latest(uri, cancel):
            return None
    if completion is None:
        return None
    if current_version(ls.workspace, uri) != request.version:
        log.debug("dropping a stale completion for %s (document changed)", uri)
        return None
    ls.problems.resolve("backend")
    ls.stats.offered(completion.id, completion.model, completion.text, completion.latency_ms)
    ls.prewarmer.answered(request, position, completion)
    return completion


def completes_in_file(ls: Host, uri: str, position: types.Position) -> bool:
    """Whether typing in this file can ever bring a completion (a menu client asks again per keystroke only then)."""
    if not ls.session.settings.completion.enabled:
        return False
    try:
        return not ls.session.pipeline.skips_whole_file(snapshot(ls.workspace, uri, position))
    except DocumentError:
        return True
