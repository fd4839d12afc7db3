"""Chats on the local model: the GGUF's own chat template rendered here (so Qwen3's ``enable_thinking`` switch
reaches it and the rendered prompt can be continued), generated as a plain completion on a ``GenerationSlot``'s
thread, with the thinking budget of ``clients.thinking``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..base import GenerationParams
from ..thinking import CLOSE_THINKING, ThinkingWatch, opens_thinking
from .generation_stats import GenerationStats


@dataclass(frozen=True)
class ChatPrompt:
    text: str  # the conversation rendered up to the assistant's turn
    stop: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def _formatter(template: str, eos_token: str, bos_token: str) -> Any:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    return Jinja2ChatFormatter(template=template, eos_token=eos_token, bos_token=bos_token)


def render_chat(
    llm: Any, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, enable_thinking: bool | None
) -> ChatPrompt:
    """The model's chat template (ChatML, Qwen's format, for a GGUF without one) applied to the conversation."""
    from llama_cpp import llama_chat_format

    template = llm.metadata.get("tokenizer.chat_template")
    switch = {} if enable_thinking is None else {"enable_thinking": enable_thinking}
    if not template:
        rendered = llama_chat_format.format_chatml(messages=messages, **switch)
    else:

        def token_text(token: int) -> str:
            return llm._model.token_get_text(token) if token != -1 else ""

        formatter = _formatter(template, token_text(llm.token_eos()), token_text(llm.token_bos()))
        rendered = formatter(messages=messages, tools=tools or None, **switch)
    stop = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop] if rendered.stop else []
    return ChatPrompt(rendered.prompt, tuple(s for s in stop if s))


def generate_chat(
    llm: Any,
    prompt: ChatPrompt,
    params: GenerationParams,
    emit: Callable[[str], None],
    should_stop: Callable[[], bool],
    stats: GenerationStats,
    on_first_token: Callable[[], None],
) -> None:
    """Generate the assistant's turn. With a thinking budget, thinking that reaches it is closed with Qwen's
    sentence and ``</think>`` (emitted too, so the answer parser sees where thinking ends) and the model answers
    from there, continuing the same prompt (its KV cache is reused)."""
    budget = params.thinking_budget
    watch = ThinkingWatch(budget, opens_thinking(prompt.text)) if budget is not None else None
    stops = list(dict.fromkeys((*prompt.stop, *params.stop)))
    thought = _generate(
        llm,
        prompt.text,
        params.max_tokens + (budget or 0),
        params,
        stops,
        emit,
        should_stop,
        stats,
        on_first_token,
        watch,
    )
    if watch is not None and watch.exhausted and not should_stop():
        emit(CLOSE_THINKING)
        _generate(
            llm,
            prompt.text + thought + CLOSE_THINKING,
            params.max_tokens,
            params,
            stops,
            emit,
            should_stop,
            stats,
            on_first_token,
            None,
        )


def _generate(
    llm: Any,
    text: str,
    max_tokens: int,
    params: GenerationParams,
    stops: list[str],
    emit: Callable[[str], None],
    should_stop: Callable[[], bool],
    stats: GenerationStats,
    on_first_token: Callable[[], None],
    watch: ThinkingWatch | None,
) -> str:
    out: list[str] = []
    for chunk in llm.create_completion(
        text,  # a string prompt: the template's control tokens are parsed as such
        max_tokens=max_tokens,
        temperature=params.temperature,
        top_p=params.top_p,
        top_k=params.top_k,
        min_p=0.0,
        repeat_penalty=params.repeat_penalty,
        stop=stops or None,
        stream=True,
    ):
        if stats.generated_tokens == 0:
            on_first_token()
        choice = chunk["choices"][0]
        stats.generated_tokens += not choice.get("finish_reason")  # the last chunk only carries the reason
        if piece := choice["text"]:
            out.append(piece)
            emit(piece)
            if watch is not None:
                watch.feed(piece)
        stats.finish_reason = choice.get("finish_reason") or stats.finish_reason
        if watch is not None and watch.answered >= params.max_tokens:  # max_tokens is for the answer
            stats.finish_reason = "length"
            break
        if should_stop() or (watch is not None and watch.exhausted):
            break
    return "".join(out)
