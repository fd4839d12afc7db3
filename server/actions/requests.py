"""Which client request a command handler is serving, and cancelling long commands.

pygls runs ``workspace/executeCommand`` as a wrapper around the command's own task: ``$/cancelRequest``
cancels the wrapper's future, never the command, and the command never sees the request's ``workDoneToken``.
``RequestTracker`` fills both gaps. It wraps the protocol's request dispatch so a context variable holds the
request being dispatched (asyncio copies it into the command's task), and calls the listeners registered for a
request id when the client cancels it. Long commands turn both cancel routes (``$/cancelRequest`` and the
work-done progress cancel) into one ``threading.Event`` that the backends watch.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestInfo:
    msg_id: Any
    method: str
    params: Any


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("qwen_lsp_request", default=None)


class RequestTracker:
    def __init__(self) -> None:
        self._listeners: dict[Any, list[Callable[[], None]]] = {}

    @classmethod
    def install(cls, protocol: Any) -> RequestTracker:
        """Attach to a pygls protocol once (idempotent); returns the tracker."""
        existing = getattr(protocol, "_qwen_request_tracker", None)
        if existing is not None:
            return existing
        tracker = cls()
        dispatch = protocol._handle_request
        cancel = protocol._handle_cancel_notification

        def handle_request(msg_id: Any, method_name: str, params: Any) -> Any:
            token = _current.set(RequestInfo(msg_id, method_name, params))
            try:
                return dispatch(msg_id, method_name, params)
            finally:
                _current.reset(token)

        def handle_cancel(msg_id: Any) -> Any:
            tracker._cancelled(msg_id)
            return cancel(msg_id)

        protocol._handle_request = handle_request
        protocol._handle_cancel_notification = handle_cancel
        protocol._qwen_request_tracker = tracker
        return tracker

    def on_cancel(self, msg_id: Any, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when the client cancels request ``msg_id``; returns a function that unregisters it."""
        self._listeners.setdefault(msg_id, []).append(callback)

        def remove() -> None:
            callbacks = self._listeners.get(msg_id, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                self._listeners.pop(msg_id, None)

        return remove

    def _cancelled(self, msg_id: Any) -> None:
        for callback in self._listeners.pop(msg_id, []):
            try:
                callback()
            except Exception:
                log.exception("cancel listener failed")


def current_request() -> RequestInfo | None:
    return _current.get()


def work_done_token(request: RequestInfo | None) -> str | int | None:
    params = request.params if request else None
    token = getattr(params, "work_done_token", None)
    if token is None and isinstance(params, dict):
        token = params.get("workDoneToken")
    return token


class Cancellation:
    """One cancel flag for a long request: set by ``$/cancelRequest`` of the current request, by cancelling the
    handler's task, or by the caller (a work-done progress cancel)."""

    def __init__(self, tracker: RequestTracker | None) -> None:
        self.event = threading.Event()
        self._removers: list[Callable[[], None]] = []
        request = current_request()
        if tracker is not None and request is not None:
            self._removers.append(tracker.on_cancel(request.msg_id, self.cancel))

    def cancel(self) -> None:
        self.event.set()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def close(self) -> None:
        for remove in self._removers:
            remove()
        self._removers.clear()

    def __enter__(self) -> Cancellation:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: Any) -> None:
        if kind is not None and issubclass(kind, asyncio.CancelledError):
            self.event.set()  # the handler task itself was cancelled: stop the backend too
        self.close()
