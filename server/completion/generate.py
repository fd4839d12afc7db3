"""Stream from the backend and stop as soon as the stop rules say the completion is over, the token limit is
reached or the time is up."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator

from qwen_lsp.clients.base import Backend, BackendError, GenerationParams, Prompt

from .stop import StopRules, cut_point


async def generate_until_stop(
    backend: Backend,
    prompt: Prompt,
    params: GenerationParams,
    rules: StopRules,
    cancel: threading.Event,
    max_seconds: float | None = None,
) -> str | None:
    """The completion text up to its cut point, or None when ``cancel`` was set from outside before the end
    (a partial answer is neither shown nor cached). Setting ``cancel`` ends the model call within a token.

    At most ``params.max_tokens`` streamed pieces are taken (each holds at least one token), whether or not the
    backend honours the limit; after ``max_seconds`` the call is ended and BackendError says so."""
    timer = _Deadline(cancel, max_seconds)
    text, pieces = "", 0
    stream = backend.stream_fim(prompt, params, cancel)
    try:
        async for chunk in stream:
            text += chunk
            pieces += 1
            cut = cut_point(text, rules)
            if cut is not None:
                text = text[:cut]
            if cut is not None or pieces >= params.max_tokens:
                cancel.set()  # the rest is not needed: free the model for the next request
                break
        else:
            if timer.expired:
                raise BackendError(
                    f"{backend.name} did not finish a completion within the time limit (completion.max_seconds); "
                    "the partial answer was dropped. The model or endpoint is too slow or stalled."
                )
            if cancel.is_set():
                return None
    finally:
        timer.stop()
        if isinstance(stream, AsyncGenerator):  # what the backends return
            await stream.aclose()
    return text


class _Deadline:
    """Sets ``cancel`` after ``seconds`` (on the running event loop); ``expired`` tells that it did."""

    def __init__(self, cancel: threading.Event, seconds: float | None) -> None:
        self.expired = False
        self._cancel = cancel
        self._handle = asyncio.get_running_loop().call_later(seconds, self._fire) if seconds else None

    def _fire(self) -> None:
        if not self._cancel.is_set():
            self.expired = True
            self._cancel.set()

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
