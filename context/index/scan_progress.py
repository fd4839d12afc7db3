"""Progress of a folder scan: ``(done, total)`` callbacks, throttled."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class ScanReporter:
    """Calls the progress callback at most every 100 ms (and at the end)."""

    def __init__(self, callback: Progress | None, total: int) -> None:
        self.callback = callback
        self.total = total
        self.done = 0
        self.last = 0.0
        if callback is not None:
            self._call()

    def _call(self) -> None:
        try:
            self.callback(self.done, self.total)  # type: ignore[misc]
        except Exception:  # noqa: BLE001 - a broken callback must not stop indexing
            log.exception("context index: progress callback failed")
            self.callback = None

    def step(self) -> None:
        self.done += 1
        if self.callback is not None and time.monotonic() - self.last > 0.1:
            self.last = time.monotonic()
            self._call()

    def finish(self) -> None:
        self.done = self.total
        if self.callback is not None:
            self._call()
