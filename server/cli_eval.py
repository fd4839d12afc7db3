"""``qwen-lsp eval``: on your own repository, how often is the callee's definition in the context, and (with a
model) how much does repository context improve the completion of masked lines."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
from pathlib import Path

from qwen_lsp.clients.base import Backend, BackendError, GenerationParams
from qwen_lsp.context.base import Snippet
from qwen_lsp.context.evaluation import evaluate, format_report
from qwen_lsp.context.privacy import PrivacyPolicy
from qwen_lsp.context.repository import RepositoryContext

from .completion.generate import generate_until_stop
from .completion.pipeline import PipelineOptions
from .completion.postprocess import postprocess
from .completion.prompt import FileWindow, render_fim_prompt
from .completion.stop import StopRules
from .config import env_overrides, load_settings
from .context_wiring import context_options
from .session import Session


def run_eval(args: argparse.Namespace) -> int:
    overrides = {"backend": {"local": {"model": args.model}}} if args.model else {}
    settings, warnings = load_settings(env_overrides(), overrides)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    root = Path(args.root or ".").resolve()
    privacy = PrivacyPolicy(settings.privacy.secret_files, settings.context.exclude)
    engine = RepositoryContext(context_options(settings.context), privacy=privacy)
    print(f"indexing {root} ...", file=sys.stderr)
    engine.start([root])
    try:
        if args.no_model:
            report = evaluate(engine, n=args.n, seed=args.seed, budget_tokens=settings.context.budget_tokens)
        else:
            report = asyncio.run(_evaluate_with_model(engine, settings, args))
    except BackendError as error:
        print(f"error: {error} (use --no-model to evaluate the context alone)", file=sys.stderr)
        return 1
    finally:
        engine.stop()
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


async def _evaluate_with_model(engine: RepositoryContext, settings, args: argparse.Namespace):
    session = Session(settings)
    try:
        await session.backend.ensure_ready()
        loop = asyncio.get_running_loop()
        options = session.pipeline.options
        root = Path(args.root or ".").resolve()

        def complete(prefix: str, suffix: str, snippets: list[Snippet]) -> str:
            coroutine = _complete_line(session.backend, options, prefix, suffix, snippets, root.name)
            return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

        return await asyncio.to_thread(
            evaluate, engine, args.n, args.seed, complete, settings.context.budget_tokens, session.backend.count_tokens
        )
    finally:
        await session.backend.aclose()


async def _complete_line(
    backend: Backend, options: PipelineOptions, prefix: str, suffix: str, snippets: list[Snippet], repo_name: str
) -> str:
    template = await backend.fim_template()
    window = FileWindow(prefix, suffix, 0, len(prefix) + len(suffix))
    prompt = render_fim_prompt(template, window, "current file", "", snippets, repo_name,
                               typed_line_in_middle=getattr(backend, "heals_tokens", False))
    line_prefix = prefix.rsplit("\n", 1)[-1]
    rules = StopRules(template.stop + options.extra_stop, "line", line_prefix, suffix)
    params = GenerationParams(max_tokens=options.max_tokens_single_line, stop=template.stop)
    raw = await generate_until_stop(backend, prompt, params, rules, threading.Event())
    return postprocess(raw or "", line_prefix, suffix)

