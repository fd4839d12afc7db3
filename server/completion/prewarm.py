"""Background work that makes the next request fast: warm-ups and speculative completions.

A warm-up evaluates a document's prompt at a cursor before any request asks for it: when the editor says the file
got focus (``qwen/didFocus``), when the user pauses after an edit, and after an answer from the shorter prompt of
the time budget (the full prompt keeps warming). A speculative completion computes, after a suggestion is offered,
the one the user gets after accepting it. Both run at low priority in the backend (any request interrupts them at
once), one of each kind at a time (the newest replaces the older), and touch neither the documents, the request
counters nor the acceptance statistics. This module also drops a document's saved KV state when it changes above
the cursor the state was made for (the prompt's file window no longer matches it) or is closed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Protocol

from lsprotocol import types
from pygls.workspace import Workspace

from ..background import BackgroundTasks
from ..documents import DocumentError, snapshot
from ..session import Session
from .request import Completion, CompletionRequest

log = logging.getLogger(__name__)


class WarmingServer(Protocol):
    """What warm-ups use of the language server."""

    @property
    def session(self) -> Session: ...

    @property
    def workspace(self) -> Workspace: ...

    background: BackgroundTasks


@dataclass
class WarmupCounters:
    """What the background work did (``qwen.serverStatus``, benchmarks, tests)."""

    warmups_started: int = 0
    warmups_finished: int = 0  # ran to the end (possibly with nothing left to evaluate)
    warmup_tokens: int = 0
    speculations_started: int = 0
    speculations_cached: int = 0
    states_dropped: int = 0


class Prewarmer:
    def __init__(self, ls: WarmingServer) -> None:
        self.ls = ls
        self.cursors: dict[str, types.Position] = {}  # the last known cursor of each document
        self.counters = WarmupCounters()
        self._warmup = threading.Event()  # cancel event of the current (or last) warm-up
        self._speculation = threading.Event()

    def _enabled(self) -> bool:
        completion = self.ls.session.settings.completion
        return completion.enabled and completion.prewarm

    # -- warm-ups ---------------------------------------------------------------------------------------------

    def focused(self, uri: str, position: types.Position | None) -> None:
        """The editor shows ``uri`` (cursor at ``position`` when it says so): warm its prompt now."""
        self.warm(uri, position)

    def warm(self, uri: str, position: types.Position | None = None, delay_s: float = 0.0) -> None:
        """Warm ``uri``'s prompt at ``position`` (else its last known cursor) after ``delay_s``; replaces the
        warm-up before it."""
        position = position or self.cursors.get(uri)
        if position is None or not self._enabled():
            return
        self.cursors[uri] = position
        self._warmup.set()
        self._warmup = cancel = threading.Event()
        self.ls.background.spawn(self._warm(uri, position, delay_s, cancel), f"warm-up {uri}")

    async def _warm(self, uri: str, position: types.Position, delay_s: float, cancel: threading.Event) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        if cancel.is_set():
            return
        session = self.ls.session
        try:
            request = snapshot(self.ls.workspace, uri, position)
        except DocumentError as error:
            log.debug("no warm-up: %s", error)
            return
        self.counters.warmups_started += 1
        try:
            evaluated = await session.pipeline.prefill(request, cancel)
        except Exception as error:  # e.g. the model cannot load: the next request reports it
            log.debug("warm-up of %s failed: %s", uri, error)
            return
        self.counters.warmup_tokens += evaluated
        if not cancel.is_set():
            self.counters.warmups_finished += 1
            log.debug("warmed %s at %d:%d (%d tokens)", uri, position.line, position.character, evaluated)

    # -- after a request ----------------------------------------------------------------------------------------

    def answered(self, request: CompletionRequest, position: types.Position, completion: Completion) -> None:
        """A completion was offered at ``position``: speculate on its acceptance, and keep warming the full prompt
        when the answer came from the shorter one."""
        self.cursors[request.uri] = position
        completion_settings = self.ls.session.settings.completion
        if completion_settings.speculate and completion_settings.cache_size > 0:
            self._speculation.set()
            self._speculation = cancel = threading.Event()
            self.ls.background.spawn(self._speculate(request, completion, cancel), f"speculation {request.uri}")
        if completion.quick:
            self.warm(request.uri, position)

    async def _speculate(self, request: CompletionRequest, completion: Completion, cancel: threading.Event) -> None:
        self.counters.speculations_started += 1
        try:
            if await self.ls.session.pipeline.speculate(request, completion, cancel):
                self.counters.speculations_cached += 1
        except Exception as error:
            log.debug("speculative completion failed: %s", error)

    # -- document events --------------------------------------------------------------------------------------

    def changed(self, uri: str, changes: list[types.TextDocumentContentChangeEvent]) -> None:
        """Drop the document's saved KV state when an edit lands above its cursor (or replaces the text), follow
        the cursor to the end of the last edit, and warm there after a pause."""
        cursor = self.cursors.get(uri)
        for change in changes:
            edit_range = getattr(change, "range", None)
            if edit_range is None or cursor is None or edit_range.start.line < cursor.line:
                self.forget(uri)
            if edit_range is not None:
                cursor = _end_of_insert(edit_range.start, change.text)
        if cursor is None:
            return
        self.cursors[uri] = cursor
        self.warm(uri, cursor, self.ls.session.settings.completion.prewarm_after_ms / 1000)

    def closed(self, uri: str) -> None:
        self.cursors.pop(uri, None)
        self.forget(uri)

    def forget(self, uri: str) -> None:
        self.counters.states_dropped += self.ls.session.backend.forget(uri)

    def request_started(self, uri: str) -> None:
        """A request for ``uri`` arrived: a pending warm-up of another moment is no longer wanted."""
        self._warmup.set()
        self._speculation.set()


def _end_of_insert(start: types.Position, text: str) -> types.Position:
    """Where the cursor is after ``text`` was typed at ``start`` (LSP positions count UTF-16 code units)."""
    lines = text.split("\n")
    width = len(lines[-1].encode("utf-16-le")) // 2
    if len(lines) == 1:
        return types.Position(line=start.line, character=start.character + width)
    return types.Position(line=start.line + len(lines) - 1, character=width)
