"""The bounded agent loop: ask the model, run the tool calls it makes, feed the results back, until it finishes.

Limits: ``max_steps`` model calls, a wall-clock deadline, the same call repeated ``repeat_limit`` times (a loop),
two answers in a row without a tool call, cancellation, and a conversation that no longer fits the window
even after compaction. Every stop keeps the edits staged so far; the caller decides what to propose.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qwen_lsp.clients.base import Backend, BackendError, ChatReply, ToolCall

from .compaction import compact, conversation_tokens
from .settings import AgentSettings
from .tools import READ_ONLY, TOOL_NAMES, TOOL_SCHEMAS, Toolbox, ToolResult

NO_TOOL_REMINDER = (
    "You did not call a tool. Use the tools to make the change (edit_file or create_file), then call finish with "
    "a summary. Reply with a tool call."
)
REPEATED = "Error: you already made this exact call and nothing has changed since; do something else or call finish."
StepListener = Callable[[int, str], None]
_INVENTED_CALL = re.compile(r'"name"\s*:\s*"([^"]+)"')


@dataclass
class StepRecord:
    step: int
    tool: str
    arguments: str
    ok: bool
    result: str


@dataclass
class AgentOutcome:
    stop_reason: str  # finished | no_tool_calls | step_limit | time_limit | loop | cancelled | context_full | error
    summary: str
    steps: list[StepRecord] = field(default_factory=list)
    model_calls: int = 0
    compacted: int = 0


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _signature(call: ToolCall, revision: int) -> str:
    try:
        arguments = json.dumps(json.loads(call.arguments), sort_keys=True)
    except ValueError:
        arguments = call.arguments.strip()
    # A read after an edit may see new text, so reads are only repeats while nothing changed.
    return f"{call.name}:{arguments}:{revision if call.name in READ_ONLY else ''}"


def _describe(call: ToolCall) -> str:
    try:
        args = json.loads(call.arguments)
    except ValueError:
        return f"{call.name} (malformed arguments)"
    target = args.get("path") or args.get("query") or args.get("command") if isinstance(args, dict) else None
    return f"{call.name} {_short(str(target), 60)}" if target else call.name


class AgentLoop:
    def __init__(
        self,
        backend: Backend,
        toolbox: Toolbox,
        settings: AgentSettings,
        cancel: threading.Event,
        context_tokens: int,
        on_step: StepListener | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.backend, self.toolbox, self.settings, self.cancel = backend, toolbox, settings, cancel
        self.on_step = on_step or (lambda step, message: None)
        self.clock = clock
        self.params = settings.sampling.params(settings.max_tokens_per_step, thinking=settings.thinking)
        schema_tokens = backend.count_tokens(json.dumps(TOOL_SCHEMAS))
        reply_tokens = self.params.max_tokens + (self.params.thinking_budget or 0)
        self.budget = max(512, context_tokens - reply_tokens - schema_tokens)

    async def run(self, messages: list[dict[str, Any]]) -> AgentOutcome:
        outcome = AgentOutcome("step_limit", "")
        deadline = self.clock() + self.settings.max_seconds
        seen: Counter[str] = Counter()
        silent = 0
        for step in range(1, self.settings.max_steps + 1):
            reply = await self._ask(messages, step, deadline, outcome)
            if isinstance(reply, AgentOutcome):
                return reply
            if not reply.tool_calls:
                silent += 1
                messages.append(_assistant_message(reply.content, []))
                if silent >= 2:
                    summary = _short(reply.content, 600) or "The model stopped without a summary."
                    return self._stop(outcome, "no_tool_calls", summary)
                messages.append({"role": "user", "content": _reminder(reply.content)})
                continue
            silent = 0
            for index, call in enumerate(reply.tool_calls):
                call.id = call.id or f"call_{step}_{index}"  # tool results must name the call they answer
            messages.append(_assistant_message(reply.content, reply.tool_calls))
            for call in reply.tool_calls:
                stopped = await self._execute(call, step, seen, messages, outcome)
                if stopped is not None:
                    return stopped
        return self._stop(outcome, "step_limit", f"Stopped after {self.settings.max_steps} steps (agent.max_steps).")

    async def _ask(
        self, messages: list[dict[str, Any]], step: int, deadline: float, outcome: AgentOutcome
    ) -> ChatReply | AgentOutcome:
        """The model's next reply, or the outcome when a limit stops the run first."""
        time_limit = f"Stopped at the time limit ({self.settings.max_seconds:.0f} s)."
        if self.cancel.is_set():
            return self._stop(outcome, "cancelled", "Cancelled.")
        remaining = deadline - self.clock()
        if remaining <= 0:
            return self._stop(outcome, "time_limit", time_limit)
        outcome.compacted += compact(messages, self.budget, self.backend.count_tokens)
        if conversation_tokens(messages, self.backend.count_tokens) > self.budget:
            return self._stop(outcome, "context_full", "Stopped: the conversation no longer fits the model's context.")
        self.on_step(step, f"step {step}/{self.settings.max_steps}: asking the model")
        try:
            chat = self.backend.chat(messages, self.params, TOOL_SCHEMAS, self.cancel)
            reply = await asyncio.wait_for(chat, remaining)
        except TimeoutError:
            return self._stop(outcome, "time_limit", time_limit)
        except BackendError as error:
            return self._stop(outcome, "error", f"The model failed: {error}")
        outcome.model_calls += 1
        if self.cancel.is_set() or reply.finish_reason == "cancelled":
            return self._stop(outcome, "cancelled", "Cancelled.")
        return reply

    async def _execute(
        self, call: ToolCall, step: int, seen: Counter[str], messages: list[dict[str, Any]], outcome: AgentOutcome
    ) -> AgentOutcome | None:
        """Run one tool call and feed its result back; the outcome when the call ends the run."""
        signature = _signature(call, self.toolbox.staged.revision)
        seen[signature] += 1
        self.on_step(step, f"step {step}/{self.settings.max_steps}: {_describe(call)}")
        if seen[signature] >= self.settings.repeat_limit:
            messages.append(_tool_message(call, "Error: this exact call was repeated; stopping."))
            outcome.steps.append(StepRecord(step, call.name, _short(call.arguments), False, "repeated call"))
            summary = f"Stopped: the model repeated the same {call.name} call {seen[signature]} times."
            return self._stop(outcome, "loop", summary)
        if seen[signature] > 1:
            result = ToolResult(REPEATED, ok=False)
        else:
            result = await self.toolbox.call(call.name, call.arguments)
        messages.append(_tool_message(call, result.text))
        outcome.steps.append(
            StepRecord(step, call.name or "(none)", _short(call.arguments), result.ok, _short(result.text))
        )
        if result.finished:
            return self._stop(outcome, "finished", result.text)
        if self.cancel.is_set():
            return self._stop(outcome, "cancelled", "Cancelled.")
        return None

    @staticmethod
    def _stop(outcome: AgentOutcome, reason: str, summary: str) -> AgentOutcome:
        outcome.stop_reason, outcome.summary = reason, summary
        return outcome


def _reminder(content: str) -> str:
    """What to tell a model that answered without a tool call; naming the tool it tried to invent helps."""
    invented = _INVENTED_CALL.search(content)
    if invented and invented.group(1) not in TOOL_NAMES:
        return (
            f"There is no tool named {invented.group(1)!r}; the tools are: {', '.join(TOOL_NAMES)}. " + NO_TOOL_REMINDER
        )
    return NO_TOOL_REMINDER


def _assistant_message(content: str, calls: list[ToolCall]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content or ""}
    if calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name or "invalid", "arguments": c.arguments}}
            for c in calls
        ]
    return message


def _tool_message(call: ToolCall, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call.id, "name": call.name or "invalid", "content": content}
