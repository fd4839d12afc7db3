"""The repository context engine in the server: start it on the workspace folders, keep it informed of folder and
file changes, and report indexing progress to the editor."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types
from pygls.workspace import TextDocument

from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions

from .config import ContextSettings
from .documents import workspace_roots
from .host import Host
from .models.status import send_status
from .session import Session
from .text_document import LspTextDocument

log = logging.getLogger(__name__)


def context_options(settings: ContextSettings) -> ContextOptions:
    return ContextOptions(**settings.model_dump(include=set(ContextOptions.model_fields)))


async def attach_repository_context(
    session: Session,
    folders: list[Path],
    wait: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_problem: Callable[[str], None] | None = None,
) -> RepositoryContext | None:
    """Index ``folders`` and use them for completions (in the background unless ``wait``). Waiting holds no
    thread: an exit meanwhile is not delayed by the scan (which ``RepositoryContext.stop`` cancels)."""
    session.set_roots(folders)
    if not session.settings.context.enabled:
        return None
    provider = RepositoryContext(
        context_options(session.settings.context), privacy=session.privacy, on_problem=on_problem
    )
    session.set_context_provider(provider)
    scans = provider.start(folders, progress, wait_until_indexed=False)
    if wait and scans:
        await asyncio.wait([asyncio.wrap_future(scan) for scan in scans])
    return provider


def workspace_folders(server: Host) -> list[Path]:
    return [folder for folder in workspace_roots(server.workspace) if folder.is_dir()]


async def start_indexing(server: Host) -> None:
    """Index the workspace in the background with ``$/progress``; completions get less context meanwhile."""
    session = server.session
    folders = workspace_folders(server)
    if not folders:
        return
    loop = asyncio.get_running_loop()
    reporter = _IndexProgress(server, loop)
    await reporter.begin()
    started = time.perf_counter()
    try:
        provider = await attach_repository_context(
            session, folders, wait=True, progress=reporter.report, on_problem=reporter.problem
        )
    except Exception:
        log.exception("indexing the workspace failed; completions use the current file only")
        reporter.end("failed")
        return
    if provider is None:
        reporter.end("disabled")
        return
    for uri, document in list(server.workspace.text_documents.items()):
        send_to_context(server, uri, document)
    stats = provider.scan_stats()
    files = sum(s.total for s in stats.values())
    log.info("indexed %s in %.1f s (%s)", ", ".join(map(str, folders)), time.perf_counter() - started, files or stats)
    reporter.end("done")


def send_to_context(ls: Host, uri: str, document: TextDocument) -> None:
    """Give an open document to the context engine, unless it is larger than ``context.max_file_kb`` (the limit
    for indexing): the engine re-parses a document per edit, which for a file of megabytes blocks the server for
    seconds. Such a document still gets completions from the text around the cursor; one message says so."""
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


def stop_indexing(server: Host) -> None:
    """Stop the index (an exit without ``shutdown``, e.g. the editor closed the pipe): a scan in progress stops at
    its next file, so the process ends at once. Nothing happens if ``shutdown`` did it already."""
    try:
        server.session.context_provider.stop(save_timeout=2.0)
    except Exception:  # noqa: BLE001 - exiting anyway
        log.exception("stopping the context index failed")


class _IndexProgress:
    """Turns the indexer's (done, total) callbacks, which come from its thread, into throttled LSP progress."""

    def __init__(self, server: Host, loop: asyncio.AbstractEventLoop) -> None:
        self.server, self.loop = server, loop
        self.token: str | None = None
        self.last_sent = 0.0

    async def begin(self) -> None:
        window = self.server.client_capabilities.window
        if window and window.work_done_progress:
            token = f"qwen-lsp-index-{uuid.uuid4().hex[:8]}"
            try:
                await asyncio.wait_for(self.server.work_done_progress.create_async(token), timeout=5)
                self.token = token
                self.server.work_done_progress.begin(
                    token, types.WorkDoneProgressBegin(title="Indexing repository", percentage=0, cancellable=False)
                )
            except Exception:
                log.debug("client refused an indexing progress token", exc_info=True)
        send_status(self.server, "indexing", "indexing repository", 0.0)

    def problem(self, message: str) -> None:
        """A problem of the index (from its thread), shown once."""
        self.loop.call_soon_threadsafe(self.server.problems.report, "index", message, types.MessageType.Warning)

    def report(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last_sent < 0.25 and done < total:
            return
        self.last_sent = now
        self.loop.call_soon_threadsafe(self._send, done, total)

    def _send(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if self.token:
            self.server.work_done_progress.report(
                self.token,
                types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=int(fraction * 100)),
            )
        send_status(self.server, "indexing", f"{done}/{total} files", fraction)

    def end(self, message: str) -> None:
        if self.token:
            self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        backend = self.server.session.backend.status()
        send_status(self.server, "ready" if backend.state == "ready" else backend.state, backend.detail)
