"""A scripted backend for tests of pipeline and agent-loop logic: queued replies, recorded prompts.

Never the only test of a path: the real backends have their own tests against real models.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from .base import BackendStatus, ChatReply, GenerationParams, NoLocalModel, Prompt
from .models.fim_templates import QWEN, FimTemplate


class ScriptedBackend(NoLocalModel):
    """Replies with queued texts (or ``default_reply``), streamed in ``chunk_size`` pieces with ``delay_s`` each.
    Background calls (speculative completions) take ``background_replies`` instead, so they never use up the
    replies a test queued for its requests."""

    def __init__(
        self,
        replies: list[str] | None = None,
        chat_replies: list[ChatReply] | None = None,
        default_reply: str = "",
        chunk_size: int = 4,
        delay_s: float = 0.0,
        template: FimTemplate = QWEN,
        name: str = "scripted",
        background_replies: list[str] | None = None,
    ) -> None:
        self.name = name
        self.replies = deque(replies or [])
        self.background_replies = deque(background_replies or [])
        self.chat_replies = deque(chat_replies or [])
        self.default_reply = default_reply
        self.chunk_size = chunk_size
        self.delay_s = delay_s
        self.template = template
        self.prompts: list[Prompt] = []
        self.prefills: list[Prompt] = []
        self.chat_requests: list[list[dict[str, Any]]] = []
        self.chunks_after_cancel = 0
        self.calls_started = 0  # requests' calls; background ones (speculative completions) count apart
        self.calls_cancelled = 0
        self.background_calls: list[Prompt] = []

    def status(self) -> BackendStatus:
        return BackendStatus(state="ready", model=self.name)

    async def ensure_ready(self) -> None:
        return None

    async def fim_template(self) -> FimTemplate:
        return self.template

    async def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event) -> AsyncIterator[str]:
        if params.background:
            self.background_calls.append(prompt)
        else:
            self.prompts.append(prompt)
            self.calls_started += 1
        queue = self.background_replies if params.background else self.replies
        reply = queue.popleft() if queue else self.default_reply
        finished = False
        try:
            for start in range(0, len(reply), self.chunk_size):
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                if cancel.is_set():
                    return
                yield reply[start : start + self.chunk_size]
            finished = True
        finally:
            if not finished and not params.background:
                self.calls_cancelled += 1

    async def chat(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatReply:
        self.chat_requests.append([dict(m) for m in messages])
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not self.chat_replies:
            return ChatReply(content="", finish_reason="stop")
        return self.chat_replies.popleft()

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4) if text else 0

    async def prefill(self, prompt: Prompt, cancel: threading.Event) -> int:
        self.prefills.append(prompt)
        return 0

    async def aclose(self) -> None:
        return None
