"""The completion pipeline, stage by stage:

prefilter → cache → context → prompt (a shorter one when the full one cannot be evaluated within the budget)
→ generate (stop rules) → post-process → cache.
Each stage is a module of its own; this one only runs them in order and times them. The same stages serve the
background work: a warm-up evaluates a prompt without generating (``prefill``), a speculative completion
computes the next suggestion as if the last one had been accepted (``speculate``) into the cache. Background work
counts in ``background_counters``, never in the request counters.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field, replace

from qwen_lsp.clients.base import CANCELLED, Backend, GenerationParams, Prompt, until_cancelled
from qwen_lsp.clients.models.fim_templates import FimTemplate
from qwen_lsp.context.base import ContextProvider, ContextRequest, ContextResult, NoContext
from qwen_lsp.context.privacy import PrivacyPolicy
from qwen_lsp.context.syntax.shape import previous_nonblank_line

from ..config import ServerSettings
from . import prefilter
from .budget import quick_window
from .cache import CacheKey, CompletionCache
from .generate import generate_until_stop
from .postprocess import postprocess
from .prompt import FileWindow, file_window, render_fim_prompt
from .request import Completion, CompletionRequest, Extent
from .stop import StopRules

log = logging.getLogger(__name__)
SUFFIX_SCAN_CHARS = 64 * 1024  # what stop rules see of the text after the cursor (not all of a 20 MB file)


@dataclass
class PipelineCounters:
    """What the pipeline did since the server started (``qwen.serverStatus``, benchmarks)."""

    requests: int = 0
    skipped: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    model_calls_cancelled: int = 0
    empty: int = 0
    quick_prompts: int = 0  # answered from a shorter prompt (the full one was over the time budget)


@dataclass
class PromptBuild:
    """Everything decided before the model call; also what ``qwen.inspectContext`` shows."""

    prompt: Prompt
    template: FimTemplate
    window: FileWindow
    shape: Extent
    context: ContextResult
    timings_ms: dict[str, float] = field(default_factory=dict)


class CompletionPipeline:
    def __init__(
        self,
        backend: Backend,
        settings: ServerSettings,
        context_provider: ContextProvider | None = None,
        cache: CompletionCache | None = None,
        counters: PipelineCounters | None = None,
        privacy: PrivacyPolicy | None = None,
        background_counters: PipelineCounters | None = None,
    ) -> None:
        self.backend = backend
        self.privacy = privacy or PrivacyPolicy()
        self.settings = settings  # read where used: one source of truth (a settings change builds a new pipeline)
        self.context_provider = context_provider or NoContext()
        self.cache = cache or CompletionCache()
        self.counters = counters or PipelineCounters()
        self.background_counters = background_counters or PipelineCounters()

    async def complete(self, request: CompletionRequest, cancel: threading.Event) -> Completion | None:
        return await self._complete(request, cancel, background=False)

    async def speculate(self, request: CompletionRequest, shown: Completion, cancel: threading.Event) -> bool:
        """In the background, the completion the user gets after accepting ``shown``, into the cache (so Tab →
        next ghost text is a cache hit). True when one was computed."""
        after = request.with_inserted(shown.text)
        return await self._complete(after, cancel, background=True) is not None

    async def prefill(self, request: CompletionRequest, cancel: threading.Event) -> int:
        """Evaluate the stable part of the prompt at ``request``'s cursor in the background; tokens evaluated."""
        if self._decide(request).kind == "none":
            return 0
        build = await self.build_prompt(request, shape="line")
        return await self.backend.prefill(build.prompt, cancel)

    def skips_whole_file(self, request: CompletionRequest) -> bool:
        """Nothing is completed anywhere in ``request``'s file (kept out, disabled language, ignored globs)."""
        completion = self.settings.completion
        reason = prefilter.whole_file_skip(
            request, completion.disabled_languages, completion.ignored_globs, self.privacy
        )
        return reason is not None

    def _decide(self, request: CompletionRequest) -> prefilter.Shape:
        completion = self.settings.completion
        return prefilter.decide(
            request,
            completion.disabled_languages,
            completion.ignored_globs,
            self.privacy,
            self._syntax_check_max_chars,
            self.context_provider,
        )

    @property
    def _syntax_check_max_chars(self) -> int:
        """Larger documents complete one line without the tree-sitter check: the size limit for parsing, as for
        indexing."""
        return self.settings.context.max_file_kb * 1024

    async def _complete(
        self, request: CompletionRequest, cancel: threading.Event, background: bool
    ) -> Completion | None:
        started = time.perf_counter()
        counters = self.background_counters if background else self.counters
        counters.requests += 1
        decision = self._decide(request)
        if decision.kind == "none":
            log.debug("no completion at %s:%d: %s", request.path, request.offset, decision.reason)
            counters.skipped += 1
            return None
        completion = self.settings.completion
        window = file_window(request.text, request.offset, completion.max_prefix_chars, completion.max_suffix_chars)
        key = CacheKey(request.uri, window.prefix, window.suffix)
        if (cached := self.cache.get(key)) is not None:
            counters.cache_hits += 1
            return Completion(_new_id(), cached, self.backend.name, _ms_since(started), cached=True)

        limit = completion.max_seconds  # wall-clock limit: waiting for the backend and generating
        if await until_cancelled(self.backend.ensure_ready(), cancel, limit) is CANCELLED:
            # superseded, or the model is still loading / the endpoint still being checked (that goes on, and
            # reports its own failure): nothing to show for this request
            return None
        build = await self.build_prompt(request, window, decision.kind)
        if background:
            build = replace(build, prompt=replace(build.prompt, document=request.uri + "#next"))
        elif (
            completion.prompt_budget_ms
            and (full_ms := self.backend.uncached_ms(build.prompt)) > completion.prompt_budget_ms
        ):
            short = self._quick_build(request, build)
            if self.backend.uncached_ms(short.prompt) * 2 < full_ms:  # else finishing the full one is as quick
                build = short
                counters.quick_prompts += 1
        generate_started = time.perf_counter()
        rules = StopRules(
            stop_strings=self._stop_strings(build),
            shape=build.shape,
            line_prefix=request.line_prefix,
            suffix=request.suffix[:SUFFIX_SCAN_CHARS],  # the rules look at the next lines only
        )
        counters.model_calls += 1
        params = replace(self._params(build), background=background)
        try:
            remaining = None if limit is None else max(0.5, limit - (time.perf_counter() - started))
            raw = await generate_until_stop(self.backend, build.prompt, params, rules, cancel, remaining)
        except asyncio.CancelledError:
            counters.model_calls_cancelled += 1
            raise
        build.timings_ms["generate"] = _ms_since(generate_started)
        if raw is None:
            counters.model_calls_cancelled += 1
            return None  # cancelled or superseded
        text = postprocess(
            raw,
            request.line_prefix,
            request.suffix,
            previous_nonblank_line(request.text, request.offset - len(request.line_prefix)),
        )
        quick = build.prompt.document.endswith("#quick")
        if not quick:  # the full prompt's answer may differ: the next request asks the model again
            self.cache.put(key, text)
        if not text:
            counters.empty += 1
            log.debug("completion at %s:%d empty after post-processing (raw %r)", request.path, request.offset, raw)
            return None
        return Completion(
            _new_id(), text, self.backend.name, _ms_since(started), timings_ms=build.timings_ms, quick=quick
        )

    def _quick_build(self, request: CompletionRequest, full: PromptBuild) -> PromptBuild:
        """The prompt without repository context and with a file window short enough for the time budget."""

        def render(window: FileWindow) -> Prompt:
            prompt = render_fim_prompt(
                full.template,
                window,
                request.path,
                request.language_id,
                name_file=True,
                typed_line_in_middle=self.backend.heals_tokens,
            )
            return replace(prompt, document=request.uri + "#quick")

        window = quick_window(
            request.text, request.offset, self.settings.completion, lambda w: self.backend.uncached_ms(render(w))
        )
        return replace(full, prompt=render(window), window=window, context=ContextResult())

    async def build_prompt(
        self, request: CompletionRequest, window: FileWindow | None = None, shape: Extent | None = None
    ) -> PromptBuild:
        timings: dict[str, float] = {}
        completion = self.settings.completion
        window = window or file_window(
            request.text, request.offset, completion.max_prefix_chars, completion.max_suffix_chars
        )
        if shape is None:
            kind = prefilter.decide(
                request, syntax_check_max_chars=self._syntax_check_max_chars, context=self.context_provider
            ).kind
            shape = kind if kind != "none" else "line"
        started = time.perf_counter()
        await self.backend.ensure_ready()
        template = await self.backend.fim_template()
        timings["model_ready"] = _ms_since(started)

        started = time.perf_counter()
        context = await asyncio.to_thread(self._gather_context, request, window)
        timings["context"] = _ms_since(started)

        prompt = render_fim_prompt(
            template,
            window,
            request.path,
            request.language_id,
            context.snippets,
            context.repo_name,
            typed_line_in_middle=self.backend.heals_tokens,
        )
        return PromptBuild(replace(prompt, document=request.uri), template, window, shape, context, timings)

    def _gather_context(self, request: CompletionRequest, window: FileWindow) -> ContextResult:
        budget_tokens = self.settings.context.tokens_per_completion
        if budget_tokens <= 0:
            return ContextResult()
        line = request.text.count("\n", 0, request.offset)
        context_request = ContextRequest(
            uri=request.uri,
            path=request.path,
            language_id=request.language_id,
            text=request.text,
            offset=request.offset,
            line=line,
            character=len(request.line_prefix),
            budget_tokens=budget_tokens,
            count_tokens=self.backend.count_tokens,
            prefix_start=window.prefix_start,
            suffix_end=window.suffix_end,
        )
        try:
            return self.context_provider.gather(context_request)
        except Exception:  # context is a bonus: a failure degrades to the file window alone
            log.exception("context gathering failed for %s", request.path)
            return ContextResult()

    def _stop_strings(self, build: PromptBuild) -> tuple[str, ...]:
        return build.template.stop + tuple(self.settings.completion.stop)

    def _params(self, build: PromptBuild) -> GenerationParams:
        completion = self.settings.completion
        max_tokens = completion.max_tokens if build.shape == "block" else completion.max_tokens_single_line
        return GenerationParams(
            max_tokens=max_tokens, temperature=completion.temperature, stop=self._stop_strings(build)
        )


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
