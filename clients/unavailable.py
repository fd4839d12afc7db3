"""A backend that cannot run here (its extra is not installed, or privacy.local_only refuses its endpoint): it says
why whenever it is asked to work.

Building it never fails, so the server starts and answers every request even before the editor's settings
(``workspace/configuration``) switch to a backend that can run, e.g. a remote endpoint on an install without
the ``local`` extra.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any

from .base import BackendError, BackendStatus, ChatReply, GenerationParams, NoLocalModel, Prompt
from .models.fim_templates import FimTemplate


class UnavailableBackend(NoLocalModel):
    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def status(self) -> BackendStatus:
        return BackendStatus(state="error", model=self.name, detail=self.reason)

    async def ensure_ready(self) -> None:
        raise BackendError(self.reason)

    async def fim_template(self) -> FimTemplate:
        raise BackendError(self.reason)

    async def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event) -> AsyncIterator[str]:
        raise BackendError(self.reason)
        yield ""  # an async generator, like the real backends

    async def chat(self, *args: Any, **kwargs: Any) -> ChatReply:
        raise BackendError(self.reason)

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4) if text else 0

    async def aclose(self) -> None:
        return None
