"""The local backend: a GGUF model run in-process by llama-cpp-python.

The model loads in a background thread on first use (status "loading" with progress, then "ready" or "error";
a later call after an error tries again, so fixing the file recovers). Completions generate in one
``GenerationSlot`` (one context, one thread), which keeps its KV cache between requests: a prompt that extends the
previous one only evaluates the new tokens; the KV states of the last few documents are kept too, and a document's
prompt can be evaluated ahead of its first request at low priority (both in ``prompt_cache``). Chats (code
actions, agent steps) get a second slot on the same weights unless ``chat_context`` is "shared" (see ``slot``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from ..base import BackendError, BackendStatus, ChatReply, GenerationParams, Prompt
from ..models.fim_templates import TEMPLATES, FimTemplate, detect_template, template_by_name
from ..settings import LocalSettings
from ..tool_calls import arguments_as_objects, parse_tool_calls, tool_names
from .chat import generate_chat, render_chat
from .cpu_probe import repack_is_safe
from .generation_stats import GenerationStats
from .kv_reuse import sequence_kept
from .loader import GgufInfo, LoadPlan, load_llama, plan_load, read_gguf_info, resolve_model_path, second_context
from .prompt_cache import PromptCache
from .slot import GenerationSlot, Job
from .token_healing import DropPrefix, HealingProcessor, TokenTexts, back_off, prompt_tokens

log = logging.getLogger(__name__)
_CHARS_PER_TOKEN_BEFORE_LOAD = 3.5  # only until the tokenizer is loaded


class LocalLlamaBackend:
    """``clients.base.Backend`` over llama-cpp-python. ``on_status`` is called on the event loop's thread."""

    heals_tokens = True  # a prompt may end in user text: its last token is re-chosen by the model

    def __init__(self, settings: LocalSettings, on_status: Callable[[BackendStatus], None] | None = None) -> None:
        self.name = Path(settings.model).name  # a preset name, or the .gguf file's name: statistics group by it
        self.settings = settings
        self._on_status = on_status
        self._status = BackendStatus(state="idle", model=settings.model)
        self._closed = threading.Event()  # stops running work and a load in progress
        self._completions = GenerationSlot("llama", self._closed)
        self._chats: GenerationSlot | None = None  # created on the first chat; the completion slot when shared
        self._path: Path | None = None
        self._info: GgufInfo | None = None
        self._plan: LoadPlan | None = None
        self._template: FimTemplate | None = None
        self._token_texts: TokenTexts | None = None
        self._load_task: asyncio.Task[None] | None = None
        self._chat_slot_lock = asyncio.Lock()
        self._cache = PromptCache(settings)
        self._tokenized: tuple[Prompt, tuple[list[int], str]] | None = None  # the last prompt's tokens

    @property
    def _llm(self) -> Any:
        return self._completions.llm

    @property
    def last_stats(self) -> GenerationStats:
        """Figures of the last completion (``last_chat_stats``: of the last chat)."""
        return self._completions.last_stats

    @property
    def last_chat_stats(self) -> GenerationStats:
        return (self._chats or self._completions).last_stats

    # -- status and loading -------------------------------------------------------------------------

    def status(self) -> BackendStatus:
        return self._status

    def _set_status(self, state: str, detail: str = "", progress: float | None = None) -> None:
        model = self.settings.model
        self._status = BackendStatus(state, model, detail, progress)  # type: ignore[arg-type]
        if self._on_status is not None:
            try:
                self._on_status(self._status)
            except Exception:
                log.exception("status listener failed")

    async def ensure_ready(self) -> None:
        if self._closed.is_set():
            raise BackendError("the local backend was closed")
        if self._status.state == "ready":
            return
        task = self._load_task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._load_task = asyncio.ensure_future(self._load())
        await asyncio.shield(task)

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        self._set_status("loading", f"loading {self.settings.model}", 0.0)
        last = [0.0]

        def progress(value: float) -> bool:
            if value - last[0] >= 0.05 or value >= 1.0:
                last[0] = value
                loop.call_soon_threadsafe(self._set_status, "loading", f"loading {self.settings.model}", value)
            return not self._closed.is_set()  # False makes llama.cpp abandon the load

        try:
            await loop.run_in_executor(None, self._load_sync, progress)
        except BackendError as exc:
            self._set_status("error", str(exc))
            raise
        except Exception as exc:  # an unexpected failure still leaves a clear state
            log.exception("loading %s failed", self.settings.model)
            self._set_status("error", f"loading {self.settings.model} failed: {exc}")
            raise BackendError(f"loading {self.settings.model} failed: {exc}") from exc
        detail = f"{self._info.name or self._info.architecture}" if self._info else ""
        self._set_status("ready", "; ".join([detail, *(self._plan.notes if self._plan else [])]).strip("; "), 1.0)

    def _load_sync(self, progress: Callable[[float], bool]) -> None:
        import llama_cpp

        forced = self._forced_template()  # a bad name fails before the slow part
        path = resolve_model_path(self.settings.model)
        info = read_gguf_info(path)
        repack_safe = self.settings.repack != "auto" or repack_is_safe(path, info.file_type)
        plan = plan_load(self.settings, info, bool(llama_cpp.llama_supports_gpu_offload()), repack_safe)
        llm = load_llama(path, plan, progress)
        if self._closed.is_set():
            llm.close()
            raise BackendError("the backend was closed while the model was loading")
        self._completions.attach(llm)
        self._path, self._info, self._plan = path, info, plan
        self._template = forced or self._detect_template()
        self._token_texts = TokenTexts.of(llm.n_vocab(), llm.detokenize)  # ~1 s for Qwen's 152k tokens
        log.info("loaded %s (%s) %s", path, info.architecture, "; ".join(plan.notes))

    # -- vocabulary -----------------------------------------------------------------------------------

    def _single_control_ids(self, texts: list[str]) -> frozenset[int]:
        """Ids of the given strings that the vocabulary has as one control/user-defined token each."""
        import llama_cpp

        special = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_USER_DEFINED
        found = set()
        for text in texts:
            ids = self._llm.tokenize(text.strip().encode(), add_bos=False, special=True) if text.strip() else []
            if len(ids) == 1 and self._llm._model.token_get_attr(ids[0]) & special:
                found.add(ids[0])
        return frozenset(found)

    def _forced_template(self) -> FimTemplate | None:
        if not self.settings.fim_template:
            return None
        try:
            return template_by_name(self.settings.fim_template)
        except ValueError as exc:
            raise BackendError(f"backend.local.fim_template: {exc}") from exc

    def _detect_template(self) -> FimTemplate | None:
        """The family whose markers the vocabulary has as single special tokens (not merely as text)."""
        markers = {m.strip() for t in TEMPLATES.values() for m in t.markers if m.strip()}
        found = self._single_control_ids(sorted(markers))
        vocab = {self._llm._model.token_get_text(i) for i in found}
        return detect_template(vocab)

    async def fim_template(self) -> FimTemplate:
        await self.ensure_ready()
        if self._template is None:
            raise BackendError(
                f"model {self.settings.model} has no fill-in-the-middle tokens, so it cannot complete code "
                "inline; use a coder model such as qwen2.5-coder-0.5b (chat features still work)."
            )
        return self._template

    def tokenize_prompt(self, prompt: Prompt) -> list[int]:
        """Markers are parsed as control tokens; user text never is, even if it contains marker text."""
        return self._healed_tokens(prompt, heal=False)[0]

    def _healed_tokens(self, prompt: Prompt, heal: bool = True) -> tuple[list[int], str]:
        """The prompt's tokens, the last one backed off when the prompt ends in user text (see ``token_healing``),
        and the text of that backed-off token ("" when nothing is healed)."""
        if self._llm is None:
            raise BackendError("the model is not loaded yet")
        if heal and self._tokenized is not None and self._tokenized[0] == prompt:
            return self._tokenized[1]  # estimated just before: tokenise once per request
        tokens, healable_from = prompt_tokens(self._llm, prompt)
        if not heal or self._token_texts is None:
            return tokens, ""
        healed = back_off(tokens, healable_from, self._token_texts)
        self._tokenized = (prompt, healed)
        return healed

    def count_tokens(self, text: str) -> int:
        if self._llm is None:
            return int(len(text) / _CHARS_PER_TOKEN_BEFORE_LOAD) + 1
        return len(self._llm.tokenize(text.encode(), add_bos=False, special=False))

    # -- generation -----------------------------------------------------------------------------------

    async def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel: threading.Event) -> AsyncIterator[str]:
        template = await self.fim_template()
        tokens, healed = self._healed_tokens(prompt)
        # Generated markers come out as text (see loader), so the template's marker stops apply.
        stops = list(dict.fromkeys(s for s in (*template.stop, *params.stop) if s))
        job = lambda emit, stop: self._complete_sync(tokens, params, stops, emit, stop, healed, prompt.document)  # noqa: E731
        async for chunk in self._completions.stream(job, cancel, background=params.background):
            yield chunk

    def _complete_sync(
        self,
        tokens: list[int],
        params: GenerationParams,
        stops: list[str],
        emit: Callable[[str], None],
        should_stop: Callable[[], bool],
        healed: str = "",
        document: str = "",
    ) -> None:
        from llama_cpp import LogitsProcessorList, StoppingCriteriaList

        if should_stop():
            return
        self._cache.states.select(self._llm, tokens, document)
        texts = self._token_texts
        healing = LogitsProcessorList([HealingProcessor(texts, healed, len(tokens))]) if healed and texts else None
        emit = DropPrefix(healed, emit)  # the healed text is already in the document
        slot = self._completions
        with slot.generating(tokens, should_stop, self.settings.reuse_shifted_cache) as stats:
            start = time.perf_counter()

            def criteria(input_ids: Any, _logits: Any) -> bool:
                # Called once per sampled token before it is emitted (input_ids ends with the previous
                # token), and once more after the last one.
                stats.generated_tokens = max(stats.generated_tokens, len(input_ids) - len(tokens) + 1)
                if stats.first_token_ms is None:
                    stats.first_token_ms = (time.perf_counter() - start) * 1000
                    slot.watch_prompt_evaluation(False)
                    self._cache.speed.add(len(tokens) - stats.cached_tokens, stats.first_token_ms / 1000)
                return should_stop()

            for chunk in self._llm.create_completion(
                tokens,
                max_tokens=params.max_tokens + (1 if healed else 0),  # the healed token is written again
                temperature=params.temperature,
                top_p=params.top_p,
                top_k=params.top_k,
                min_p=0.0,
                repeat_penalty=params.repeat_penalty,
                stop=stops,
                stream=True,
                stopping_criteria=StoppingCriteriaList([criteria]),
                logits_processor=healing,
            ):
                choice = chunk["choices"][0]
                if choice["text"]:
                    emit(choice["text"])
                stats.finish_reason = choice.get("finish_reason") or stats.finish_reason
                if should_stop():
                    break

    # -- the prompt cache: warm-ups, estimates, several documents ------------------------------------------

    async def prefill(self, prompt: Prompt, cancel: threading.Event) -> int:
        await self.ensure_ready()
        # Typing appends to the prompt's last line: all but its last token (which token healing re-chooses) stay.
        stable, _ = self._healed_tokens(prompt)
        if not stable:
            return 0
        evaluated = [0]  # also when interrupted (the stream drops what a pre-empted job emits)

        def job(_emit: Callable[[str], None], stop: Callable[[], bool]) -> None:
            evaluated[0] = self._cache.prefill(self._completions, stable, prompt.document, stop, evaluated)

        async for _ in self._completions.stream(job, cancel, background=True):
            pass
        return evaluated[0]

    def uncached_ms(self, prompt: Prompt) -> float:
        if self._llm is None or self._template is None:
            return 0.0
        tokens, _ = self._healed_tokens(prompt)
        return self._cache.uncached_ms(self._llm, tokens)

    def forget(self, document: str) -> int:
        return self._cache.states.forget(document)

    def local_model(self) -> str | None:
        return self.settings.model

    def cache_report(self) -> dict[str, Any]:
        return self._cache.report()

    async def chat(
        self,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None = None,
        cancel: threading.Event | None = None,
    ) -> ChatReply:
        await self.ensure_ready()
        cancel = cancel or threading.Event()
        messages = arguments_as_objects(messages)
        slot = await self._chat_slot()
        job: Job = lambda emit, stop: self._chat_sync(slot, messages, params, tools, emit, stop)  # noqa: E731
        text = "".join([chunk async for chunk in slot.stream(job, cancel)])
        if cancel.is_set():
            return ChatReply(content=text, finish_reason="cancelled")
        # Qwen's tool calls come as text; they are parsed here.
        content, calls = parse_tool_calls(text, tool_names(tools))
        return ChatReply(content, calls, "tool_calls" if calls else slot.last_stats.finish_reason or None)

    async def _chat_slot(self) -> GenerationSlot:
        if self.settings.chat_context == "shared":
            return self._completions
        async with self._chat_slot_lock:
            if self._chats is None:
                slot = GenerationSlot("llama-chat", self._closed)
                main, path, plan = self._completions.llm, self._path, self._plan
                try:
                    if path is None or plan is None:
                        raise BackendError("the model is not loaded")
                    slot.attach(await slot.run(lambda: second_context(main, path, plan)))
                except Exception as exc:  # e.g. no memory for a second KV cache: share the one there is
                    log.warning("no second llama.cpp context for chats (%s); chats share the completion context", exc)
                    await slot.shutdown()
                    slot = self._completions
                self._chats = slot
        return self._chats

    def _chat_sync(
        self,
        slot: GenerationSlot,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        tools: list[dict[str, Any]] | None,
        emit: Callable[[str], None],
        should_stop: Callable[[], bool],
    ) -> None:
        if should_stop():
            return
        prompt = render_chat(slot.llm, messages, tools, params.enable_thinking)
        # In a shared context the completion's KV cache is saved around the chat.
        kept = sequence_kept(slot.llm) if slot is self._completions else contextlib.nullcontext()
        with kept, slot.generating([], should_stop) as stats:
            generate_chat(
                slot.llm,
                prompt,
                params,
                emit,
                should_stop,
                stats,
                on_first_token=lambda: slot.watch_prompt_evaluation(False),
            )

    async def wait_idle(self) -> None:
        """Wait until the generation threads have finished everything submitted so far."""
        for slot in {self._completions, self._chats or self._completions}:
            await slot.wait_idle()

    def evaluated_tokens(self) -> int:
        """Tokens currently held in the KV cache (the prefix the next request can reuse)."""
        return int(self._llm.n_tokens) if self._llm is not None else 0

    async def aclose(self) -> None:
        """Stop running work (within a token), free the model; does not block the event loop."""
        self._closed.set()
        chats = self._chats if self._chats is not self._completions else None
        for slot in (chats, self._completions):
            if slot is not None:
                await slot.shutdown()
        if self._load_task is not None:
            with contextlib.suppress(Exception):
                await self._load_task
        for slot in (chats, self._completions):  # the second context goes before the weights it borrows
            if slot is not None and slot.llm is not None:
                slot.llm.close()
                slot.llm = None
        self._set_status("idle", "closed")
