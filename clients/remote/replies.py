"""Reading the endpoint's replies: chat replies with their tool calls, thinking deltas, stop strings in a stream."""

from __future__ import annotations

from typing import Any

from ..base import ChatReply, ToolCall
from ..tool_calls import parse_tool_calls, tool_names


def chat_reply(response: Any, tools: list[dict[str, Any]] | None) -> ChatReply:
    """The reply of a chat completion, with tool calls whether the server parsed them or left them as text."""
    choice = response.choices[0]
    content = choice.message.content or ""
    calls = [
        ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments)
        for c in (choice.message.tool_calls or [])
        if getattr(c, "function", None) is not None
    ]
    if not calls:  # servers that leave Qwen's tool calls as text
        content, calls = parse_tool_calls(content, tool_names(tools))
    return ChatReply(content=content, tool_calls=calls, finish_reason="tool_calls" if calls else choice.finish_reason)


def reasoning_of(delta: Any) -> str:
    """Thinking text that servers with a reasoning parser (vLLM, SGLang, DashScope) stream apart from the content."""
    if delta is None:
        return ""
    return (
        getattr(delta, "reasoning_content", None)
        or (getattr(delta, "model_extra", None) or {}).get("reasoning_content")
        or ""
    )


class StopScanner:
    """Cuts a text stream at the first stop string, holding back text that could be the start of one
    (the server should stop there itself; this covers servers that ignore or render the stops)."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = stops
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        self.pending += text
        hits = [i for i in (self.pending.find(s) for s in self.stops) if i >= 0]
        if hits:
            out, self.pending = self.pending[: min(hits)], ""
            return out, True
        hold = max((k for s in self.stops for k in range(1, len(s)) if self.pending.endswith(s[:k])), default=0)
        cut = len(self.pending) - hold
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out, False

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out
