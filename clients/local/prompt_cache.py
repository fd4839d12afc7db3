"""The local backend's prompt cache: the KV states of the last few documents (``kv_states``), warm-ups that
evaluate a prompt into them ahead of its request, and the measured evaluation speed that estimates what a prompt
still costs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..settings import LocalSettings
from .generation_stats import EvaluationSpeed, common_prefix
from .kv_reuse import reuse_shifted
from .kv_states import DocumentStates
from .slot import GenerationSlot

_PRIOR_TOKENS_PER_S = 40.0  # prompt evaluation speed until measured (0.5B model, one CPU thread)
PREFILL_CHUNK = 64  # tokens per llama_decode in a warm-up: an interrupted warm-up loses at most this much work


class PromptCache:
    def __init__(self, settings: LocalSettings) -> None:
        self.states = DocumentStates(settings.cached_documents, settings.cached_documents_mb * 2**20)
        self.speed = EvaluationSpeed(_PRIOR_TOKENS_PER_S)
        self.reuse_shifted = settings.reuse_shifted_cache

    def prefill(
        self,
        slot: GenerationSlot,
        tokens: list[int],
        document: str,
        should_stop: Callable[[], bool],
        progress: list[int],
    ) -> int:
        """Evaluate ``tokens`` into ``slot``'s context (on its thread) in chunks, stopping between chunks when asked;
        the tokens evaluated (also kept in ``progress[0]`` as it goes)."""
        llm = slot.llm
        if should_stop():
            return 0
        self.states.select(llm, tokens, document)
        if self.reuse_shifted:
            reuse_shifted(llm, tokens)
        start = common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        if start >= len(tokens):
            return 0
        llm.n_tokens = start  # ``eval`` drops the KV entries after this
        llm._requires_eval = True  # the logits are not of token ``start - 1``
        evaluated = 0
        with slot.abortable(should_stop):
            for index in range(start, len(tokens), PREFILL_CHUNK):
                if should_stop():
                    break
                chunk = tokens[index : index + PREFILL_CHUNK]
                began = time.perf_counter()
                llm.eval(chunk)
                self.speed.add(len(chunk), time.perf_counter() - began)
                evaluated += len(chunk)
                progress[0] = evaluated
        return evaluated

    def uncached_ms(self, llm: Any, tokens: list[int]) -> float:
        """Estimated milliseconds to evaluate what no kept state shares of ``tokens``."""
        return self.speed.ms(len(tokens) - self.states.best_shared(llm, tokens))

    def report(self) -> dict[str, Any]:
        return {**self.states.report(), "prompt_tokens_per_s": round(self.speed.tokens_per_s, 1)}
