"""``$/progress`` for an agent run, on the client's ``workDoneToken`` or one the server creates, and the
work-done progress cancel turned into the run's cancel flag."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from lsprotocol import types

from ..host import Host

log = logging.getLogger(__name__)


class AgentProgress:
    def __init__(self, ls: Host, token: str | int | None, on_cancel: Callable[[], None], max_steps: int) -> None:
        self.ls, self.token, self.on_cancel, self.max_steps = ls, token, on_cancel, max_steps
        self._created = False

    async def begin(self, title: str, message: str) -> None:
        if self.token is None:
            self.token = await self._create()
        if self.token is None:
            return
        progress = self.ls.work_done_progress
        progress.begin(
            self.token, types.WorkDoneProgressBegin(title=title, message=message, cancellable=True, percentage=0)
        )
        future = progress.tokens.get(self.token)
        if future is not None:
            future.add_done_callback(lambda f: self.on_cancel() if f.cancelled() else None)

    def step(self, step: int, message: str) -> None:
        if self.token is None:
            return
        percentage = min(99, int(100 * max(step - 1, 0) / max(self.max_steps, 1)))
        try:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, percentage=percentage)
            )
        except Exception:
            log.debug("progress report failed", exc_info=True)

    def end(self, message: str) -> None:
        if self.token is None:
            return
        try:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        finally:
            self.ls.work_done_progress.tokens.pop(self.token, None)

    async def _create(self) -> str | None:
        window = self.ls.client_capabilities.window
        if not (window and window.work_done_progress):
            return None
        token = f"qwen-lsp-agent-{uuid.uuid4().hex[:8]}"
        try:
            await asyncio.wait_for(self.ls.work_done_progress.create_async(token), timeout=5)
        except Exception:
            log.debug("client refused a progress token", exc_info=True)
            return None
        return token
