"""``qwen-lsp context FILE:LINE:COL``: what the model would see at a position, and why (``qwen.inspectContext``)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from qwen_lsp.clients.base import BackendError

from ..completion.inspection import describe_prompt
from .complete import cli_session, prepare


def run_context(args: argparse.Namespace) -> int:
    settings, request, root = prepare(args)
    try:
        report = asyncio.run(_inspect(settings, request, root))
    except BackendError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"template: {report['template']}  shape: {report['shape']}  "
        f"prompt: {report['prompt_tokens']} tokens  context budget: {report['budget']} tokens"
    )
    print(f"{'source':<12} {'score':>7} {'tokens':>7}  location")
    for snippet in report["snippets"]:
        start, end = snippet["range"]["start"]["line"] + 1, snippet["range"]["end"]["line"]
        print(
            f"{snippet['source']:<12} {snippet['score']:>7.3f} {snippet['tokens']:>7}  {snippet['path']}:{start}-{end}"
        )
    print("timings (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in report["timings_ms"].items()))
    print("--- prompt ---")
    print(report["prompt"])
    return 0


async def _inspect(settings, request, root) -> dict:
    async with cli_session(settings, request, root) as session:
        build = await session.pipeline.build_prompt(request)
        return describe_prompt(
            build, session.backend.count_tokens, session.pipeline.settings.context.tokens_per_completion
        )
