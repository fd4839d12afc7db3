"""The backend interface every model source implements, and the data it exchanges."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .models.fim_templates import FimTemplate


@dataclass(frozen=True)
class PromptPiece:
    """A run of prompt text. Control pieces are FIM/repo markers; the rest is user text that must
    never be parsed into control tokens."""

    text: str
    control: bool = False


@dataclass(frozen=True)
class Prompt:
    pieces: tuple[PromptPiece, ...]
    # Which document (and variant) the prompt is for: a local backend keeps a KV state per document.
    document: str = ""

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.pieces)


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repeat_penalty: float = 1.0
    stop: tuple[str, ...] = ()
    # Chats with thinking models: tokens the model may think before its thinking is closed for it (then
    # max_tokens is for the answer; ``clients.thinking``); None leaves thinking to max_tokens. ``enable_thinking``
    # is the chat template's switch (Qwen3), None leaves the template's default.
    thinking_budget: int | None = None
    enable_thinking: bool | None = None
    # Background work (a speculative completion): gives way to any request and ends cancelled when it does.
    background: bool = False


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text as the model produced it; parsing errors are fed back to the model


@dataclass
class ChatReply:
    content: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None


BackendState = Literal["idle", "loading", "ready", "error"]


@dataclass
class BackendStatus:
    state: BackendState
    model: str
    detail: str = ""
    progress: float | None = None  # 0..1 while loading/downloading


class BackendError(RuntimeError):
    """A problem the user can act on (missing model, unreachable endpoint, ...). Its message says what to do."""


class Backend(Protocol):
    """A source of completions. ``stream_fim`` yields text chunks until done, the stop strings match,
    or ``cancel`` is set; it must notice ``cancel`` within one generated token.

    Everything the server uses of a backend is here: a backend without a prompt cache, token healing or a model
    file of its own takes the defaults of ``NoLocalModel``."""

    name: str
    # The prompt layout: True when the backend re-chooses the prompt's last token (token healing), so the typed
    # part of the cursor's line may end the prompt (typing then only appends to it; see completion/prompt.py).
    heals_tokens: bool

    def status(self) -> BackendStatus: ...

    async def ensure_ready(self) -> None:
        """Start loading if needed and wait until the backend can serve; raise BackendError if it cannot.
        One load for all callers: a caller that stops waiting (cancelled) leaves it going."""

    async def fim_template(self) -> FimTemplate: ...

    def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event) -> AsyncIterator[str]: ...

    async def chat(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatReply: ...

    def count_tokens(self, text: str) -> int:
        """Exact for local models, a calibrated estimate for remote ones."""

    async def prefill(self, prompt: Prompt, cancel: threading.Event) -> int:
        """Evaluate the part of ``prompt`` that typing on its last line does not change into the backend's cache,
        at low priority: it stops (keeping what is done) when ``cancel`` is set or a request needs the model.
        Returns the tokens evaluated; 0 for backends without a prompt cache of their own."""

    def uncached_ms(self, prompt: Prompt) -> float:
        """Estimated milliseconds to evaluate what the backend has not cached of ``prompt`` (0: unknown)."""

    def forget(self, document: str) -> int:
        """Drop cached prompt state kept for ``document`` (it changed or was closed); how many states."""

    def cache_report(self) -> dict[str, Any]:
        """What the prompt cache holds, for ``qwen.serverStatus``."""

    def local_model(self) -> str | None:
        """The model file this backend loads on this machine, as configured (a preset name or a path), which the
        server may offer to download before loading; None for a backend without a model file of its own."""

    async def aclose(self) -> None: ...


class NoLocalModel:
    """The parts of ``Backend`` that belong to a model run in this process, for backends without one (a remote
    endpoint keeps its own prompt cache, a stand-in has none): nothing to warm, estimate or drop, no token
    healing, no model file to download."""

    heals_tokens = False

    async def prefill(self, prompt: Prompt, cancel: threading.Event) -> int:
        return 0

    def uncached_ms(self, prompt: Prompt) -> float:
        return 0.0

    def forget(self, document: str) -> int:
        return 0

    def cache_report(self) -> dict[str, Any]:
        return {}

    def local_model(self) -> str | None:
        return None


CANCELLED = object()  # what ``until_cancelled`` returns when the wait was given up


async def until_cancelled(
    awaitable: Awaitable[Any], cancel: threading.Event | None, timeout: float | None = None
) -> Any:
    """The awaitable's result, or ``CANCELLED`` as soon as ``cancel`` is set or ``timeout`` seconds have passed
    (the awaitable is then cancelled). A threading.Event cannot be awaited, so it is polled meanwhile."""
    if cancel is None and timeout is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    try:
        while not task.done():
            if (cancel is not None and cancel.is_set()) or (
                deadline is not None and asyncio.get_running_loop().time() >= deadline
            ):
                return CANCELLED
            await asyncio.wait({task}, timeout=0.05)
        return task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
