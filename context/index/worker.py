"""The context engine's one background thread.

Jobs run in submission order. Debounced jobs (``submit_later``, keyed: a newer one replaces a pending one) run
when due, also between the steps of a long job (``run_due``), so re-extracting the document being typed in
never waits for a full scan. A failing job is logged and the thread carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)


class Worker:
    def __init__(self, name: str = "qwen-lsp-context") -> None:
        self._cond = threading.Condition()
        self._jobs: deque[tuple[Callable[[], Any], Future[Any]]] = deque()
        self._delayed: dict[str, tuple[float, Callable[[], Any]]] = {}
        self._background: set[str] = set()  # delayed jobs nobody waits for (``idle`` ignores them)
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self._cond:
            if self._stopped:
                future.set_exception(RuntimeError("context worker stopped"))
                return future
            self._jobs.append((fn, future))
            self._cond.notify()
        return future

    def submit_later(self, key: str, fn: Callable[[], Any], delay: float, background: bool = False) -> None:
        with self._cond:
            self._delayed[key] = (time.monotonic() + delay, fn)
            if background:
                self._background.add(key)
            else:
                self._background.discard(key)
            self._cond.notify()

    def cancel_later(self, key: str) -> None:
        with self._cond:
            self._delayed.pop(key, None)
            self._background.discard(key)

    def in_worker(self) -> bool:
        return threading.current_thread() is self._thread

    def run_due(self) -> None:
        """Run the debounced jobs that are due (call from the worker thread only, between steps of a job)."""
        now = time.monotonic()
        with self._cond:
            due = [key for key, (when, _) in self._delayed.items() if when <= now]
            jobs = [self._delayed.pop(key)[1] for key in due]
            self._background.difference_update(due)
        for fn in jobs:
            self._call(fn)

    def stop(self, timeout: float | None = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._delayed.clear()
            self._cond.notify()
        if not self.in_worker():
            self._thread.join(timeout)

    def idle(self) -> bool:
        """No job queued and no delayed job pending, except background ones."""
        with self._cond:
            return not self._jobs and set(self._delayed) <= self._background

    @staticmethod
    def _call(fn: Callable[[], Any], future: Future[Any] | None = None) -> None:
        try:
            result = fn()
        except BaseException as exc:  # noqa: BLE001 - the thread must survive any job
            log.exception("context worker: job failed")
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and not self._jobs:
                    if self._delayed:
                        wait = min(when for when, _ in self._delayed.values()) - time.monotonic()
                        if wait <= 0:
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
                if self._stopped:
                    pending = list(self._jobs)
                    self._jobs.clear()
                    break
                job = self._jobs.popleft() if self._jobs else None
            self.run_due()
            if job is not None:
                fn, future = job
                if future.set_running_or_notify_cancel():
                    self._call(fn, future)
        for _, future in pending:
            # Not ``cancel()``: a cancelled future does not wake ``concurrent.futures.wait``.
            if future.set_running_or_notify_cancel():
                future.set_exception(RuntimeError("context worker stopped"))
