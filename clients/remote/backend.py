"""The remote backend: any OpenAI-compatible endpoint (llama.cpp server, vLLM, Ollama, hosted APIs).

FIM goes to ``/v1/completions`` as raw prompt text (the server tokenises the markers), streamed and closed as
soon as the request is cancelled; chat goes to ``/v1/chat/completions`` with tools. The API key is read from
the environment variable named in the settings at client creation and is never logged or put in an error
message. Retries with exponential backoff on connection errors, 408/409/429 and 5xx come from the openai SDK.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, cast

import openai
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionMessageParam

from ..base import (
    CANCELLED,
    BackendError,
    BackendStatus,
    ChatReply,
    GenerationParams,
    NoLocalModel,
    Prompt,
    until_cancelled,
)
from ..models.fim_templates import FimTemplate, template_by_name
from ..settings import RemoteSettings
from ..thinking import CLOSE_THINKING, ThinkingWatch
from .errors import CutOff, failure_message
from .outbound import RedactingAsyncOpenAI
from .replies import StopScanner, chat_reply, reasoning_of

log = logging.getLogger(__name__)
# Qwen2.5's tokenizer measured on source code: Python standard library 4.3 characters per token, TypeScript
# and Lua 3.9. A little under that, so context budgets are not overrun; refined from the usage the server
# reports (prompt characters / prompt tokens) when it reports any.
DEFAULT_CHARS_PER_TOKEN = 3.8


class OpenAICompatBackend(NoLocalModel):  # the model, and its prompt cache if any, are the endpoint's
    """``clients.base.Backend`` over an OpenAI-compatible HTTP API."""

    def __init__(self, settings: RemoteSettings, on_status: Callable[[BackendStatus], None] | None = None) -> None:
        self.name = settings.model or "remote"  # statistics group by it
        self.settings = settings
        self._on_status = on_status
        self._status = BackendStatus(state="idle", model=settings.model or settings.base_url)
        self._client: openai.AsyncOpenAI | None = None
        self._background: set[threading.Event] = set()  # cancel events of background completions in flight
        self._key = ""
        self._model = settings.model
        self._connecting: asyncio.Future[None] | None = None
        self.chars_per_token = DEFAULT_CHARS_PER_TOKEN

    def __repr__(self) -> str:
        return f"OpenAICompatBackend(base_url={self.settings.base_url!r}, model={self._model!r})"

    # -- status and connection ---------------------------------------------------------------------

    def status(self) -> BackendStatus:
        return self._status

    def _set_status(self, state: str, detail: str = "") -> None:
        model = self._model or self.settings.base_url
        self._status = BackendStatus(state, model, detail)  # type: ignore[arg-type]
        if self._on_status is not None:
            try:
                self._on_status(self._status)
            except Exception:
                log.exception("status listener failed")

    def _make_client(self) -> openai.AsyncOpenAI:
        self._key = os.environ.get(self.settings.api_key_env, "").strip()
        return RedactingAsyncOpenAI(  # every request body passes the credential redactor
            # The SDK insists on some key; without one the Authorization header is omitted per request.
            api_key=self._key or "unset",
            base_url=self.settings.base_url,
            timeout=openai.Timeout(self.settings.read_timeout_s, connect=self.settings.connect_timeout_s),
            max_retries=self.settings.max_retries,
        )

    def _auth_options(self) -> dict[str, Any]:
        """Per-request options: with no key, drop the Authorization header instead of sending a dummy one."""
        return {} if self._key else {"extra_headers": {"Authorization": openai.omit}}

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def _error(self, exc: Exception, endpoint: str) -> BackendError:
        """A BackendError that says which URL failed and what to check (and never contains the key)."""
        url = self.settings.base_url.rstrip("/") + endpoint
        return BackendError(self._redact(failure_message(exc, url, self.settings.api_key_env, self._model)))

    async def ensure_ready(self) -> None:
        if self._status.state == "ready" and self._client is not None:
            return
        # One check at a time: callers arriving meanwhile wait for it (llama_cpp.server, for one, interrupts a
        # streaming reply when another request comes in). A failed check is tried again by the next caller.
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.ensure_future(self._connect())
        await asyncio.shield(self._connecting)

    async def _connect(self) -> None:
        self._client = self._client or self._make_client()
        self._set_status("loading", f"connecting to {self.settings.base_url}")
        try:
            models = await self._client.models.list(**self._auth_options())
            ids = [m.id for m in models.data]
        except openai.NotFoundError:
            ids = []  # some servers have no /models; the first real request will tell
        except (openai.OpenAIError, ValueError) as exc:
            raise self._failed(exc, "/models") from None
        if not self._model:
            if not ids:
                error = BackendError(f"{self.settings.base_url} lists no models: set backend.remote.model")
                self._set_status("error", str(error))
                raise error
            self._model = ids[0]
        self._set_status("ready", f"{self._model} at {self.settings.base_url}")

    def _failed(self, exc: Exception, endpoint: str) -> BackendError:
        error = self._error(exc, endpoint)
        self._set_status("error", str(error))
        return error

    # -- FIM ------------------------------------------------------------------------------------------

    async def fim_template(self) -> FimTemplate:
        try:
            return template_by_name(self.settings.fim_template)
        except ValueError as exc:
            raise BackendError(f"backend.remote.fim_template: {exc}") from exc

    def count_tokens(self, text: str) -> int:
        return int(len(text) / self.chars_per_token) + 1

    def _calibrate(self, prompt_chars: int, prompt_tokens: int | None) -> None:
        if prompt_tokens and prompt_chars >= 200:
            ratio = min(8.0, max(1.5, prompt_chars / prompt_tokens))
            self.chars_per_token = 0.8 * self.chars_per_token + 0.2 * ratio

    def _sampling(self, params: GenerationParams) -> dict[str, Any]:
        """Sampling fields; top_k and repeat_penalty are not OpenAI fields, so they go in the body only when set."""
        body = dict(self.settings.extra_body)
        if params.top_k > 0:
            body["top_k"] = params.top_k
        if params.repeat_penalty != 1.0:
            body["repeat_penalty"] = params.repeat_penalty
        return {
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "extra_body": body or None,
        }

    async def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event) -> AsyncIterator[str]:
        template = await self.fim_template()
        await self.ensure_ready()
        assert self._client is not None
        # A server may answer one request at a time: background work (speculation) is cancelled by any request.
        if params.background:
            self._background.add(cancel)
        else:
            for pending in self._background:
                pending.set()
            self._background.clear()
        stops = list(dict.fromkeys(s for s in (*template.stop, *params.stop) if s))
        text = prompt.text
        request = self._client.completions.create(
            model=self._model,
            prompt=text,
            stream=True,
            stop=stops or None,
            stream_options={"include_usage": True},
            **self._sampling(params),
            **self._auth_options(),
        )
        try:
            stream = await until_cancelled(request, cancel)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._failed(exc, "/completions") from None
        if stream is CANCELLED:
            return
        scanner = StopScanner(stops)
        chunks = stream.__aiter__()
        finished = False  # a finish_reason or the usage report came: the stream was not cut off
        try:
            while (chunk := await until_cancelled(anext(chunks, None), cancel)) not in (None, CANCELLED):
                if chunk.usage is not None:
                    finished = True
                    self._calibrate(len(text), chunk.usage.prompt_tokens)
                for choice in chunk.choices:
                    finished = finished or choice.finish_reason is not None
                    piece, done = scanner.feed(choice.text or "")
                    if piece:
                        yield piece
                    if done:
                        return
            if chunk is None and not finished:
                raise self._failed(CutOff(), "/completions")
            if chunk is None and (tail := scanner.flush()):
                yield tail
        except (openai.OpenAIError, ValueError) as exc:
            raise self._failed(exc, "/completions") from None
        finally:
            await stream.close()  # frees the connection, so the server stops generating

    # -- chat -----------------------------------------------------------------------------------------

    async def chat(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatReply:
        await self.ensure_ready()
        if params.thinking_budget is not None:
            return await self._chat_within_budget(messages, params, tools, cancel)
        response = await self._chat_request(messages, params, tools, cancel)
        if response is CANCELLED:
            return ChatReply(content="", finish_reason="cancelled")
        return chat_reply(response, tools)

    async def _chat_request(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None,
        cancel: threading.Event | None,
        stream: bool = False,
        **extra: Any,
    ) -> Any:
        assert self._client is not None
        options = self._sampling(params)
        options["extra_body"] = {**(options["extra_body"] or {}), **extra} or None
        request = self._client.chat.completions.create(
            model=self._model,
            messages=cast("list[ChatCompletionMessageParam]", messages),  # dicts in the chat format
            tools=tools or openai.omit,  # type: ignore[arg-type]
            stop=list(params.stop) or None,
            stream=stream,
            **options,
            **self._auth_options(),
        )
        try:
            return await until_cancelled(request, cancel)
        except (openai.OpenAIError, ValueError) as exc:
            raise self._failed(exc, "/chat/completions") from None

    async def _chat_within_budget(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None,
        cancel: threading.Event | None,
    ) -> ChatReply:
        """Stream the reply, watching its thinking (``reasoning_content`` deltas, or ``<think>`` in the content);
        at the budget, stop the stream and have the server continue the assistant's turn from the closed thinking
        (``continue_final_message``: vLLM, SGLang; llama-server continues a final assistant message by itself)."""
        budget = params.thinking_budget or 0
        stream = await self._chat_request(
            messages, replace(params, max_tokens=params.max_tokens + budget), tools, cancel, stream=True
        )
        if stream is CANCELLED:
            return ChatReply(content="", finish_reason="cancelled")
        state = ChatCompletionStreamState()
        watch, reasoning, received = ThinkingWatch(budget), [], False
        try:
            async for chunk in stream:
                received = True
                state.handle_chunk(chunk)
                delta = chunk.choices[0].delta if chunk.choices else None
                if thought := reasoning_of(delta):
                    reasoning.append(thought)
                watch.feed_delta(thought, (delta.content or "") if delta is not None else "")
                if (cancel is not None and cancel.is_set()) or watch.exhausted or watch.answered >= params.max_tokens:
                    break
        except (openai.OpenAIError, ValueError) as exc:
            raise self._failed(exc, "/chat/completions") from None
        finally:
            await stream.close()
        if cancel is not None and cancel.is_set():
            return ChatReply(content="", finish_reason="cancelled")
        snapshot = state.current_completion_snapshot if received else None
        message = snapshot.choices[0].message if snapshot is not None and snapshot.choices else None
        if not (reasoning or (message is not None and (message.content or message.tool_calls))):
            raise BackendError(
                f"{self.settings.base_url.rstrip('/')}/chat/completions ended its stream without "
                "a reply; see the server's log"
            )
        assert snapshot is not None
        if not watch.exhausted:
            reply = chat_reply(snapshot, tools)
            cut = watch.answered >= params.max_tokens and not reply.tool_calls  # max_tokens is for the answer
            return replace(reply, finish_reason="length") if cut else reply
        so_far = "<think>\n" + "".join(reasoning) if reasoning else (message.content if message else "") or ""
        prefix = so_far + CLOSE_THINKING
        turn = [*messages, {"role": "assistant", "content": prefix}]
        response = await self._chat_request(
            turn, params, tools, cancel, continue_final_message=True, add_generation_prompt=False
        )
        if response is CANCELLED:
            return ChatReply(content="", finish_reason="cancelled")
        reply = chat_reply(response, tools)
        return ChatReply(prefix + reply.content, reply.tool_calls, reply.finish_reason)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        self._set_status("idle", "closed")
