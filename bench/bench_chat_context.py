"""Ghost text while a code action generates, through the real ``qwen-lsp`` over stdio with the real
Qwen2.5-Coder-0.5B (one thread per context), for ``backend.local.chat_context`` "separate" (the default: chats get
a second llama.cpp context on the same weights) and "shared" (one context for everything).

For each mode, a new server: keystrokes with an inline completion after each, first alone, then while an
"Explain" code action generates a long answer. Reported: the completion round trip alone and during the chat
(median) and the slowest during the chat, their ratio, whether the completions came back before the chat ended, and the server's resident memory.

    .venv/bin/python bench/bench_chat_context.py [--model PATH] [--keystrokes 4] [--explain-tokens 400]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from lsprotocol import types

from bench_actions import SOURCE, structure_code_actions_like_editors
from common import (
    LspSession,
    ModelSettings,
    Report,
    add_model_arguments,
    machine_info,
    median,
    model_settings,
    process_rss_mb,
    show_and_write,
)

NEW_FUNCTION = "\n\ndef middle(values):\n    ordered = sorted(values)\n    "
TYPED = "half = len(ordered) // 2"


async def explain(lsp: LspSession, uri: str) -> float:
    """Resolve and run the Explain action on ``mean``; the seconds it took."""
    started = time.perf_counter()
    at = types.Position(line=5, character=8)
    actions = await lsp.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    action = next(a for a in actions if a.title.startswith("Explain"))
    resolved = await lsp.client.code_action_resolve_async(action)
    if resolved.command is not None:
        await lsp.execute(resolved.command.command, *(resolved.command.arguments or []))
    return time.perf_counter() - started


class Typist:
    """Types ``TYPED`` into the new function one character at a time, asking for a completion after each."""

    def __init__(self, lsp: LspSession, uri: str, text: str) -> None:
        self.lsp, self.uri = lsp, uri
        self.line = text.count("\n")
        self.column = len(text) - text.rfind("\n") - 1
        self.version = 1
        self.typed = 0

    async def keystroke(self) -> float:
        char = TYPED[self.typed % len(TYPED)]
        self.version += 1
        self.lsp.edit(self.uri, self.version, (self.line, self.column), (self.line, self.column), char)
        self.column += 1
        self.typed += 1
        _, ms = await self.lsp.inline(self.uri, self.line, self.column)
        return ms


async def one_mode(model: ModelSettings, args: argparse.Namespace) -> dict[str, Any]:
    project = Path(tempfile.mkdtemp(prefix="qwen-lsp-bench-chat-"))
    text = SOURCE + NEW_FUNCTION
    (project / "stats.py").write_text(text)
    uri = (project / "stats.py").as_uri()
    async with LspSession(model, completion={"cache_size": 0, "prompt_budget_ms": 0}) as lsp:  # the full prompt
        structure_code_actions_like_editors(lsp.client)
        greedy = {"temperature": 0.0, "topP": 1.0, "topK": 0, "repetitionPenalty": 1.05}
        lsp.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={"qwenLsp": {"actions": {"sampling": greedy, "maxTokens": args.explain_tokens}}}
            )
        )
        await lsp.wait_ready()
        lsp.open(uri, text)
        typist = Typist(lsp, uri, text)
        await typist.keystroke()  # the cold prompt
        alone = [await typist.keystroke() for _ in range(args.keystrokes)]
        rss_before = process_rss_mb(lsp.server_pid)
        chat = asyncio.ensure_future(explain(lsp, uri))
        await asyncio.sleep(args.chat_head_start)
        during = [await typist.keystroke() for _ in range(args.keystrokes)]
        before_chat_ended = not chat.done()
        chat_s = await chat
        rss_after = process_rss_mb(lsp.server_pid)
    return {
        "mode": model.chat_context,
        "alone_ms": [round(x) for x in alone],
        "during_chat_ms": [round(x) for x in during],
        "completions_before_chat_ended": before_chat_ended,
        "chat_s": round(chat_s, 1),
        "rss_mb_before_chat": rss_before,
        "rss_mb_after_chat": rss_after,
    }


async def run(args: argparse.Namespace) -> Report:
    base = model_settings(args, args.n_ctx)
    report = Report("chat-context", meta=machine_info(base))
    for mode in ("separate", "shared"):
        print(f"chat_context={mode}", flush=True)
        row = await one_mode(replace(base, chat_context=mode), args)
        print(f"  {row}", flush=True)
        report.details[mode] = row
        alone, worst = median(row["alone_ms"]), max(row["during_chat_ms"])
        report.add(f"{mode}: completion alone (median)", round(alone), "ms")
        report.add(
            f"{mode}: slowest completion during an Explain", round(worst), "ms", note=f"Explain took {row['chat_s']} s"
        )
        report.add(f"{mode}: slowest during ÷ alone", round(worst / alone, 2), "×")
        report.add(f"{mode}: completions answered before the chat ended", str(row["completions_before_chat_ended"]))
        report.add(
            f"{mode}: server memory before / after the chat",
            f"{row['rss_mb_before_chat']:.0f} / {row['rss_mb_after_chat']:.0f}",
            "MB",
        )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--keystrokes", type=int, default=4, help="measured keystrokes alone and during the chat")
    parser.add_argument("--explain-tokens", type=int, default=400, help="actions.maxTokens for the Explain answer")
    parser.add_argument("--chat-head-start", type=float, default=2.0, help="seconds the chat runs before typing")
    parser.add_argument("--results", default="chat_context.json", help="file name under bench/results/")
    args = parser.parse_args()
    show_and_write(asyncio.run(run(args)), args.results)


if __name__ == "__main__":
    main()
