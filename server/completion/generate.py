"""Stream from the backend and stop as soon as the stop rules say the completion is over."""

from __future__ import annotations

import threading

from qwen_lsp.clients.base import Backend, GenerationParams, Prompt

from .stop import StopRules, cut_point


async def generate_until_stop(
    backend: Backend, prompt: Prompt, params: GenerationParams, rules: StopRules, cancel: threading.Event
) -> str | None:
    """The completion text up to its cut point, or None when ``cancel`` was set from outside before the end
    (a partial answer is neither shown nor cached). Setting ``cancel`` ends the model call within a token."""
    text = ""
    stream = backend.stream_fim(prompt, params, cancel)
    try:
        async for chunk in stream:
            text += chunk
            cut = cut_point(text, rules)
            if cut is not None:
                text = text[:cut]
                cancel.set()  # the rest is not needed: free the model for the next request
                break
        else:
            if cancel.is_set():
                return None
    finally:
        await stream.aclose()
    return text
