"""KV cache reuse after a dropped chunk (the file window's start moved): the plan, then llama.cpp for real."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from model_files import fim_prompt, repack_survives, require_real_qwen_05b
from qwen_lsp.clients.base import GenerationParams
from qwen_lsp.clients.local.kv_reuse import Shift, plan_shift
from tiny_gguf import write_tiny_qwen_gguf

pytest.importorskip("llama_cpp")

FILE = "".join(f"def function_{i}(value):\n    return value * {i} + {i % 7}\n\n\n" for i in range(40))


def test_plan_finds_where_the_new_prompt_continues_the_old_one() -> None:
    old = [1, 2, 3] + list(range(100, 140)) + list(range(200, 260))
    new = [1, 2, 3] + list(range(200, 260)) + [7, 8]
    assert plan_shift(old, new) == Shift(keep=3, drop_end=43)
    assert plan_shift(old, old + [9]) is None  # a plain extension: the prefix reuse already covers it
    assert plan_shift(old, [1, 2, 3] + list(range(200, 220))) is None  # too short a run to be worth a shift
    assert plan_shift([], new) is None


def window_prompts() -> tuple:
    lines = FILE.splitlines(keepends=True)
    first = fim_prompt("".join(lines), "\n")
    moved = fim_prompt("".join(lines[20:]) + "def function_40(value):\n", "\n")  # start moved 20 lines on, typed more
    return first, moved


async def run(backend, prompt) -> str:
    params = GenerationParams(max_tokens=12)
    return "".join([c async for c in backend.stream_fim(prompt, params, threading.Event())])


@contextlib.asynccontextmanager
async def loaded(model: Path, **overrides):
    from qwen_lsp.clients.local.backend import LocalLlamaBackend
    from qwen_lsp.clients.settings import LocalSettings

    settings = LocalSettings(model=str(model), n_ctx=2048, n_threads=1, repack=repack_survives(model), **overrides)
    backend = LocalLlamaBackend(settings)
    await backend.ensure_ready()
    try:
        yield backend
    finally:
        await backend.aclose()


async def after_the_window_moved(backend) -> str:
    """Complete at the first window, then at the moved one; the second completion's text."""
    first, moved = window_prompts()
    await run(backend, first)
    return await run(backend, moved)


async def test_a_moved_window_reuses_the_shifted_cache(tmp_path: Path) -> None:
    async with loaded(write_tiny_qwen_gguf(tmp_path / "tiny.gguf", arch="qwen2")) as backend:
        await after_the_window_moved(backend)
        stats = backend.last_stats
        assert stats.shifted_tokens > 100
        assert stats.prompt_tokens - stats.cached_tokens < 40  # only the newly typed line and the markers after it


async def test_without_reuse_the_moved_window_is_evaluated_again(tmp_path: Path) -> None:
    async with loaded(write_tiny_qwen_gguf(tmp_path / "tiny.gguf", arch="qwen2"), reuse_shifted_cache=False) as backend:
        await after_the_window_moved(backend)
        assert backend.last_stats.shifted_tokens == 0 and backend.last_stats.cached_tokens < 40


@pytest.mark.real_model
async def test_real_model_completes_sensibly_from_a_shifted_cache() -> None:
    async with loaded(require_real_qwen_05b()) as backend:
        text = await after_the_window_moved(backend)
        assert backend.last_stats.shifted_tokens > 100
        assert "return value * 40" in text, text


@pytest.mark.real_model
@pytest.mark.parametrize("chat_context", ["shared", "separate"])
async def test_a_chat_in_between_leaves_the_completion_cache_in_place(chat_context: str) -> None:
    async with loaded(require_real_qwen_05b(), chat_context=chat_context) as backend:
        first, _ = window_prompts()
        before = await run(backend, first)
        reply = await backend.chat([{"role": "user", "content": "Say hi."}], GenerationParams(max_tokens=8))
        assert reply.content
        again = await run(backend, first)
        stats = backend.last_stats
        assert stats.prompt_tokens - stats.cached_tokens <= 1  # nothing of the long prompt evaluated again
        assert again == before
