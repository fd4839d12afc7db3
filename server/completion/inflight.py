"""Latest request wins: a new completion request for a document cancels the one before it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InflightRequests:
    def __init__(self) -> None:
        self._by_document: dict[str, threading.Event] = {}
        self.started = 0
        self.superseded = 0

    @contextmanager
    def latest(self, uri: str) -> Iterator[threading.Event]:
        """A cancel event for this request; set when a newer request for ``uri`` arrives or on exit."""
        previous = self._by_document.get(uri)
        if previous is not None and not previous.is_set():
            previous.set()
            self.superseded += 1
        cancel = threading.Event()
        self._by_document[uri] = cancel
        self.started += 1
        try:
            yield cancel
        finally:
            cancel.set()  # whatever happens (cancel, error, done), the model call must end
            if self._by_document.get(uri) is cancel:
                del self._by_document[uri]

    def is_latest(self, uri: str, cancel: threading.Event) -> bool:
        return self._by_document.get(uri) is cancel

    def cancel_document(self, uri: str) -> None:
        event = self._by_document.get(uri)
        if event is not None:
            event.set()
