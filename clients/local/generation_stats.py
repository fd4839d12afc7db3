"""Figures of one local generation (read by benchmarks, tests and ``qwen-lsp complete``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class GenerationStats:
    """Figures for the last generation, updated live by the worker thread (read by benchmarks and tests)."""

    prompt_tokens: int = 0
    cached_tokens: int = 0  # prompt tokens reused from the KV cache of the previous request
    shifted_tokens: int = 0  # of those, tokens moved back after a dropped chunk (``kv_reuse``)
    generated_tokens: int = 0
    finish_reason: str = ""
    first_token_ms: float | None = None
    total_ms: float = 0.0


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class EvaluationSpeed:
    """Prompt tokens evaluated per second, measured (a moving average) to say how long a prompt would take."""

    MIN_TOKENS = 16  # shorter evaluations are dominated by per-call overhead

    def __init__(self, prior_tokens_per_s: float) -> None:
        self.tokens_per_s = prior_tokens_per_s
        self.measured = False

    def add(self, tokens: int, seconds: float) -> None:
        if tokens < self.MIN_TOKENS or seconds <= 0:
            return
        rate = tokens / seconds
        self.tokens_per_s = rate if not self.measured else 0.7 * self.tokens_per_s + 0.3 * rate
        self.measured = True

    def ms(self, tokens: int) -> float:
        return tokens / self.tokens_per_s * 1000 if tokens > 0 else 0.0
