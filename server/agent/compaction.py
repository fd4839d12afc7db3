"""Keeping the agent's conversation inside the model's window: old tool results are replaced by short notes.

The system message, the task and the latest turns stay as they are. Assistant tool calls keep their results
(compacted or not) next to them, which the OpenAI message format requires.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

COMPACTED = "[compacted to save context: {head} … ({chars} characters); call the tool again if you need it]"


def message_tokens(message: dict[str, Any], count: Callable[[str], int]) -> int:
    total = 4 + count(message.get("content") or "")
    for call in message.get("tool_calls") or []:
        total += count(json.dumps(call.get("function", {}), ensure_ascii=False))
    return total


def conversation_tokens(messages: list[dict[str, Any]], count: Callable[[str], int]) -> int:
    return sum(message_tokens(m, count) for m in messages)


def compact(messages: list[dict[str, Any]], budget: int, count: Callable[[str], int], keep_recent: int = 4) -> int:
    """Shrink old tool results (oldest first), then old assistant prose, until the conversation fits ``budget``.
    Returns how many messages were compacted; the caller stops the run if it still does not fit."""
    total = conversation_tokens(messages, count)
    compacted = 0
    if total <= budget:
        return 0
    for roles in (("tool",), ("assistant",), ("tool", "assistant")):
        recent = keep_recent if roles != ("tool", "assistant") else 1
        for message in messages[2 : max(2, len(messages) - recent)]:
            if total <= budget:
                return compacted
            content = message.get("content") or ""
            if message.get("role") not in roles or len(content) < 160 or content.startswith("[compacted"):
                continue
            head = " ".join(content[:80].split())
            replacement = COMPACTED.format(head=head, chars=len(content))
            total -= count(content) - count(replacement)
            message["content"] = replacement
            compacted += 1
    return compacted
