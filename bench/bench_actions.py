"""Code actions and the agent through the real ``qwen-lsp`` over stdio, with the real Qwen2.5-Coder-0.5B
(local backend, one thread, greedy sampling with the model card's repetition penalty, so runs compare).

1. menu latency: ``textDocument/codeAction`` round trips (no model call; the edit comes later in resolve).
2. each action resolved on a real function (pygls' ``TextDocument.offset_at_position``-like code below): the
   ``codeAction/resolve`` round trip, whether an edit (or markdown) came back, and whether the edited Python still
   parses.
3. one agent run ("add a docstring to ``mean``") in a temporary project: wall time, model calls, tool calls,
   whether it proposed an edit through ``workspace/applyEdit`` and whether that edit parses.

    .venv/bin/python bench/bench_actions.py [--no-repack] [--max-tokens 512] [--agent-steps 6] [--model PATH]
        [--results actions.json]
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types

from common import LspSession, Report, add_model_arguments, machine_info, model_settings, show_and_write, summary

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))
from workspace_edits import apply_workspace_edit, structure_code_actions_like_editors

SOURCE = '''"""Small statistics helpers."""


def mean(values):
    total = 0
    count = 0
    for v in values:
        total = total + v
        count = count + 1
    if count == 0:
        return 0
    return total / count


def spread(values):
    return max(values) - min(values)
'''
CURSOR = types.Position(line=5, character=8)  # inside mean()


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:
        return False
    return True


async def menu_latency(lsp: LspSession, uri: str, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await lsp.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(start=CURSOR, end=CURSOR),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def resolve_each(lsp: LspSession, uri: str) -> list[dict[str, Any]]:
    diagnostic = types.Diagnostic(
        range=types.Range(start=types.Position(line=10, character=15), end=types.Position(line=10, character=16)),
        message="mean() of an empty list should raise ValueError, not return 0",
    )
    actions = await lsp.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=CURSOR, end=CURSOR),
            context=types.CodeActionContext(diagnostics=[diagnostic]),
        )
    )
    rows = []
    for action in actions:
        started = time.perf_counter()
        resolved = await lsp.client.code_action_resolve_async(action)
        if resolved.command is not None and resolved.edit is None:  # Explain: its command shows the markdown
            result = await lsp.client.workspace_execute_command_async(
                types.ExecuteCommandParams(command=resolved.command.command, arguments=resolved.command.arguments)
            )
            ms = (time.perf_counter() - started) * 1000
            rows.append(
                {"action": action.title, "ms": round(ms), "result": bool(result.get("markdown")), "parses": None}
            )
            continue
        ms = (time.perf_counter() - started) * 1000
        texts = apply_workspace_edit(resolved.edit, {uri: SOURCE}) if resolved.edit else {}
        rows.append(
            {
                "action": action.title,
                "ms": round(ms),
                "result": resolved.edit is not None,
                "parses": all(parses(t) for t in texts.values()) if texts else None,
                "files": sorted(texts),
            }
        )
    return rows


async def agent_run(lsp: LspSession, uri: str, steps: int) -> dict[str, Any]:
    received: list[types.ApplyWorkspaceEditParams] = []

    @lsp.client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        received.append(params)
        return types.ApplyWorkspaceEditResult(applied=False, failure_reason="benchmark: not applied")

    started = time.perf_counter()
    result = await lsp.execute(
        "qwen.agentRefactor",
        {
            "instruction": "Add a docstring to the function mean in stats.py.",
            "scope": "file",
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        },
    )
    seconds = time.perf_counter() - started
    edited = apply_workspace_edit(received[0].edit, {uri: SOURCE}) if received else {}
    return {
        "seconds": round(seconds, 1),
        "stop_reason": result["stopReason"],
        "model_calls": result["modelCalls"],
        "tool_calls": [s["tool"] for s in result["steps"]],
        "tool_errors": sum(not s["ok"] for s in result["steps"]),
        "proposed_edit": bool(received),
        "edit_parses": all(parses(t) for t in edited.values()) if edited else None,
        "summary": result["summary"][:200],
        "steps": [{"tool": s["tool"], "ok": s["ok"], "result": s["result"]} for s in result["steps"]],
    }


async def run(args: argparse.Namespace) -> Report:
    model = model_settings(args, n_ctx=4096)
    report = Report("actions", meta=machine_info(model))
    project = Path(tempfile.mkdtemp(prefix="qwen-lsp-bench-actions-"))
    (project / "stats.py").write_text(SOURCE)
    uri = (project / "stats.py").as_uri()
    async with LspSession(model) as lsp:
        structure_code_actions_like_editors(lsp.client)
        # Greedy, so runs compare, with the model card's repetition penalty (small models loop without it).
        greedy = {"temperature": 0.0, "topP": 1.0, "topK": 0, "repetitionPenalty": 1.05}
        lsp.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(
                settings={
                    "qwenLsp": {
                        "actions": {"sampling": greedy, "maxTokens": args.max_tokens},
                        "agent": {"sampling": greedy, "maxSteps": args.agent_steps, "maxTokensPerStep": 256},
                    }
                }
            )
        )
        load_s = await lsp.wait_ready()
        lsp.open(uri, SOURCE)
        menu = summary(await menu_latency(lsp, uri, 20))
        report.add("code action menu round trip (median)", menu["median"], "ms", "< 50 ms", menu["median"] < 50)
        rows = await resolve_each(lsp, uri)
        for row in rows:
            ok = row["result"] and row["parses"] is not False
            report.add(
                f"{row['action']}: resolve",
                row["ms"] / 1000,
                "s",
                "usable result",
                ok,
                "" if row["parses"] is None else ("parses" if row["parses"] else "does not parse"),
            )
        agent = await agent_run(lsp, uri, args.agent_steps)
        report.add("agent: wall time", agent["seconds"], "s")
        report.add("agent: model calls / tool calls", f"{agent['model_calls']} / {len(agent['tool_calls'])}")
        report.add("agent: proposed edit parses", str(agent["edit_parses"]), "", "True", agent["edit_parses"] is True)
        report.details = {"model_load_s": round(load_s, 1), "menu_ms": menu, "actions": rows, "agent": agent}
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--agent-steps", type=int, default=6)
    parser.add_argument("--results", default="actions.json", help="file name under bench/results/")
    args = parser.parse_args()
    show_and_write(asyncio.run(run(args)), args.results)


if __name__ == "__main__":
    main()
