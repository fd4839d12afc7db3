"""The local backend's prompt cache on real llama.cpp (tiny random-weight GGUFs): warm-ups at low priority,
several documents' KV states, estimates for the time budget."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
from pathlib import Path

import pytest

from model_files import fim_prompt
from qwen_lsp.clients.base import GenerationParams, Prompt, PromptPiece
from tiny_gguf import write_tiny_qwen_gguf

pytest.importorskip("llama_cpp")

CODE = "".join(f"def function_{i}(value):\n    return value * {i} + {i % 7}\n\n\n" for i in range(30))


def prompt_for(document: str, code: str, typed: str = "") -> Prompt:
    """A Qwen FIM prompt whose last piece is the typed part of the cursor's line, as the pipeline builds it."""
    base = fim_prompt(code, "\n")
    pieces = base.pieces + ((PromptPiece(typed),) if typed else ())
    return Prompt(pieces, document=document)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_qwen_gguf(tmp_path_factory.mktemp("models") / "tiny.gguf", arch="qwen2")


@pytest.fixture(scope="module")
def slow_tiny(tmp_path_factory) -> Path:
    """Wider and deeper: a long prompt takes seconds to evaluate on one thread."""
    return write_tiny_qwen_gguf(tmp_path_factory.mktemp("models") / "slow.gguf", arch="qwen2", width=256, layers=8)


@contextlib.asynccontextmanager
async def loaded(model: Path, **overrides):
    from qwen_lsp.clients.local.backend import LocalLlamaBackend
    from qwen_lsp.clients.settings import LocalSettings

    settings = LocalSettings(model=str(model), n_ctx=8192, n_threads=1, repack=False, **overrides)
    backend = LocalLlamaBackend(settings)
    await backend.ensure_ready()
    try:
        yield backend
    finally:
        await backend.aclose()


async def complete(
    backend, prompt: Prompt, max_tokens: int = 4, background: bool = False, cancel: threading.Event | None = None
) -> str:
    params = GenerationParams(max_tokens=max_tokens, background=background)
    return "".join([c async for c in backend.stream_fim(prompt, params, cancel or threading.Event())])


def evaluated(backend) -> int:
    stats = backend.last_stats
    return stats.prompt_tokens - stats.cached_tokens


async def test_after_a_warm_up_a_keystroke_evaluates_only_its_tail(tiny: Path) -> None:
    async with loaded(tiny) as backend:
        warmed = await backend.prefill(prompt_for("a", CODE, "    ret"), threading.Event())
        assert warmed > 300  # the file window up to the cursor's line; the typed part is left out
        assert backend.uncached_ms(prompt_for("a", CODE, "    retu")) < backend.uncached_ms(
            prompt_for("b", CODE[7:], "x")
        )
        await complete(backend, prompt_for("a", CODE, "    retu"))
        assert evaluated(backend) <= 3


async def test_a_request_during_a_warm_up_is_answered_before_the_warm_up_ends(slow_tiny: Path) -> None:
    async with loaded(slow_tiny) as backend:
        long_code = CODE * 3
        warm_up = asyncio.ensure_future(backend.prefill(prompt_for("big", long_code), threading.Event()))
        await asyncio.sleep(0.5)  # the warm-up is evaluating
        assert not warm_up.done()
        await complete(backend, prompt_for("small", "x = 1\n", "y"))
        assert backend.last_stats.finish_reason != "cancelled"
        assert 0 < await warm_up < backend.count_tokens(long_code)  # it gave way to the request and stopped


async def test_a_background_completion_gives_way_to_a_request(slow_tiny: Path) -> None:
    async with loaded(slow_tiny) as backend:
        cancel = threading.Event()
        background = asyncio.ensure_future(complete(backend, prompt_for("big", CODE * 3), 64, True, cancel))
        await asyncio.sleep(0.5)
        await complete(backend, prompt_for("small", "x = 1\n", "y"))
        assert not background.done() or cancel.is_set()
        await background
        assert cancel.is_set()  # pre-empted: the caller knows the text is not a finished answer


async def test_switching_back_to_a_document_restores_its_state(tiny: Path) -> None:
    async with loaded(tiny) as backend:
        other = CODE.replace("value", "item")
        await complete(backend, prompt_for("a", CODE, "x"))
        await complete(backend, prompt_for("b", other, "x"))
        assert evaluated(backend) > 300  # b shares only the first marker with a
        await complete(backend, prompt_for("a", CODE, "xy"))
        assert evaluated(backend) <= 3
        report = backend.cache_report()
        assert report["restored"] == 1 and "b" in report["saved"] and report["saved_bytes"] > 0


async def test_without_saved_states_switching_back_evaluates_again(tiny: Path) -> None:
    async with loaded(tiny, cached_documents=0) as backend:
        await complete(backend, prompt_for("a", CODE, "x"))
        await complete(backend, prompt_for("b", CODE.replace("value", "item"), "x"))
        await complete(backend, prompt_for("a", CODE, "xy"))
        assert evaluated(backend) > 300


async def test_saved_states_are_bounded_and_forgotten(tiny: Path) -> None:
    async with loaded(tiny, cached_documents=2) as backend:
        for name in "abcd":
            await complete(backend, prompt_for(name, CODE.replace("value", name * 3), "x"))
        assert list(backend.cache_report()["saved"]) == ["b", "c"]  # the two most recent besides the live d
        assert backend.forget("c") == 1
        assert list(backend.cache_report()["saved"]) == ["b"]
        await complete(backend, prompt_for("c", CODE.replace("value", "ccc"), "xy"))
        assert evaluated(backend) > 300
    async with loaded(tiny, cached_documents_mb=0) as backend:
        await complete(backend, prompt_for("a", CODE, "x"))
        await complete(backend, prompt_for("b", CODE.replace("value", "item"), "x"))
        assert backend.cache_report()["saved"] == {}


async def test_restored_state_samples_from_its_own_logits(tiny: Path) -> None:
    """A restored state's last token is evaluated again: the text equals that of a fresh evaluation."""
    async with loaded(tiny) as backend:
        first = await complete(backend, prompt_for("a", CODE), 8)
        await complete(backend, prompt_for("b", CODE.replace("value", "item")), 8)
        assert await complete(backend, prompt_for("a", CODE), 8) == first


def test_prompts_differing_only_in_document_are_not_equal() -> None:
    assert dataclasses.replace(prompt_for("a", CODE), document="b") != prompt_for("a", CODE)
