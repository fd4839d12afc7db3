"""The thinking budget: the pure watch, and budget forcing in the local backend on a real (tiny) GGUF whose chat
template opens the thinking block as Qwen3's thinking templates do."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from qwen_lsp.clients.base import GenerationParams
from qwen_lsp.clients.thinking import CLOSE_THINKING, ThinkingWatch, opens_thinking
from tiny_gguf import THINKING_CHAT_TEMPLATE, write_tiny_qwen_gguf


def test_the_watch_counts_only_thinking_and_sees_tags_split_across_chunks() -> None:
    watch = ThinkingWatch(budget=3)
    for chunk in ["Let", " me", " <thi", "nk>", "a", "b"]:
        watch.feed(chunk)
    assert watch.thinking and watch.spent == 3 and watch.exhausted
    watch.feed("</th")
    watch.feed("ink>")
    assert not watch.thinking and not watch.exhausted
    watch.feed("the answer")
    assert watch.spent == 5 and watch.answered == 4  # the closing tag counts as thinking, text before "<think>" not


def test_a_template_that_opened_thinking_counts_from_the_first_token() -> None:
    assert opens_thinking("<|im_start|>assistant\n<think>\n")
    assert not opens_thinking("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    watch = ThinkingWatch(budget=2, opened=opens_thinking("...assistant\n<think>\n"))
    watch.feed("hm")
    assert not watch.exhausted
    watch.feed("m")
    assert watch.exhausted


def test_a_model_that_does_not_think_is_never_cut() -> None:
    watch = ThinkingWatch(budget=0)
    for chunk in ["def f():", " return 1"]:
        watch.feed(chunk)
    assert not watch.exhausted and watch.spent == 0 and watch.answered == 2


@pytest.fixture(scope="module")
def thinking_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("llama_cpp")
    path = tmp_path_factory.mktemp("models") / "tiny-thinking.gguf"
    return write_tiny_qwen_gguf(path, arch="qwen2", chat_template=THINKING_CHAT_TEMPLATE)


async def chat(model: Path, params: GenerationParams) -> tuple[str, int]:
    from qwen_lsp.clients.local.backend import LocalLlamaBackend
    from qwen_lsp.clients.settings import LocalSettings

    backend = LocalLlamaBackend(LocalSettings(model=str(model), n_ctx=1024, n_threads=1))
    try:
        reply = await backend.chat([{"role": "user", "content": "hi"}], params, cancel=threading.Event())
        return reply.content, backend.last_chat_stats.generated_tokens
    finally:
        await backend.aclose()


async def test_thinking_that_reaches_its_budget_is_closed_and_the_model_answers(thinking_model: Path) -> None:
    # The random-weight model never closes its thinking by itself.
    content, generated = await chat(thinking_model, GenerationParams(max_tokens=6, thinking_budget=10))
    thought, answer = content.split(CLOSE_THINKING)
    assert thought and answer
    assert 10 <= generated - 6 <= 12  # the budget (tokens ~ streamed chunks), then max_tokens for the answer
    assert len(answer) < len(thought)
    assert "</think>" not in thought


async def test_without_a_budget_thinking_runs_into_max_tokens(thinking_model: Path) -> None:
    content, generated = await chat(thinking_model, GenerationParams(max_tokens=6))
    assert CLOSE_THINKING not in content and generated == 6


async def test_thinking_switched_off_reaches_the_template(thinking_model: Path) -> None:
    params = GenerationParams(max_tokens=6, thinking_budget=2, enable_thinking=False)
    content, generated = await chat(thinking_model, params)
    assert CLOSE_THINKING not in content and generated == 6  # the template gave an empty thinking block
