"""``qwen-lsp eval``: on your own repository, how often is the callee's definition in the context (by call form ×
cursor position), and (with a model) how much does repository context improve the completion. The completions go
through the served pipeline (prefilter, file window, context, prompt, generation with stop rules, post-processing),
once per variant: with the repository context, without it, and optionally with another suffix length. Every
completion reads its full prompt (no shorter first answer under a time budget, no time limit: a busy machine must
not change what is measured) and reuses the KV cache only where the prompts are the same token for token (no
shifted reuse: a variant without context would otherwise read entries computed with the context before them)."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import threading
from pathlib import Path

from qwen_lsp.clients.base import BackendError
from qwen_lsp.context.evaluation.cases import Case
from qwen_lsp.context.evaluation.run import VARIANTS, Completed, Report, Window, evaluate, format_report
from qwen_lsp.context.repository import RepositoryContext

from ..completion.cache import CompletionCache
from ..completion.pipeline import CompletionPipeline
from ..completion.prompt import file_window
from ..completion.request import CompletionRequest
from ..config import ServerSettings, env_overrides, load_settings
from ..context_wiring import context_options
from ..session import BackendFactory, Session, default_backend_factory, privacy_policy

_VARIANT = re.compile(r"^(context|no_context)(?:_budget(\d+))?(?:_suffix(\d+))?$")


def run_eval(args: argparse.Namespace) -> int:
    overrides = {"backend": {"local": {"model": args.model}}} if args.model else {}
    settings, warnings = load_settings(env_overrides(), overrides)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    variants = list(VARIANTS)
    if args.suffix_chars:
        variants += [f"context_suffix{args.suffix_chars}", f"no_context_suffix{args.suffix_chars}"]
    root = Path(args.root or ".").resolve()
    engine = RepositoryContext(context_options(settings.context), privacy=privacy_policy(settings, [root]))
    print(f"indexing {root} ...", file=sys.stderr)
    engine.start([root])
    try:
        if args.no_model:
            report = evaluate(
                engine,
                n=args.n,
                seed=args.seed,
                budget_tokens=settings.context.budget_tokens,
                window=served_window(settings),
            )
        else:
            report = evaluate_with_model(engine, settings, args.n, args.seed, variants)
    except BackendError as error:
        print(f"error: {error} (use --no-model to evaluate the context alone)", file=sys.stderr)
        return 1
    finally:
        engine.stop()
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def _show_progress(done: int, total: int) -> None:
    print(f"completed {done}/{total}", file=sys.stderr, end="\n" if done == total else "\r", flush=True)


def served_window(settings: ServerSettings) -> Window:
    """The file window the server puts in the prompt: the context check drops what is already inside it."""
    completion = settings.completion

    def window(text: str, offset: int) -> tuple[int, int]:
        cut = file_window(text, offset, completion.max_prefix_chars, completion.max_suffix_chars)
        return cut.prefix_start, cut.suffix_end

    return window


def variant_settings(settings: ServerSettings, variant: str) -> ServerSettings:
    """``context`` is the served pipeline; ``no_context`` has no repository context; ``_budgetN`` gives the context
    N tokens instead of ``context.budget_tokens``; ``_suffixN`` keeps N characters of suffix instead of
    ``completion.max_suffix_chars`` (``context_budget2048_suffix2000`` does both)."""
    match = _VARIANT.match(variant)
    if match is None:
        raise ValueError(f"unknown variant {variant!r}")
    if match.group(1) == "no_context":
        settings = settings.model_copy(update={"context": settings.context.model_copy(update={"enabled": False})})
    if match.group(2):
        context = settings.context.model_copy(update={"budget_tokens": int(match.group(2))})
        settings = settings.model_copy(update={"context": context})
    if match.group(3):
        completion = settings.completion.model_copy(update={"max_suffix_chars": int(match.group(3))})
        settings = settings.model_copy(update={"completion": completion})
    return settings


def eval_settings(settings: ServerSettings) -> ServerSettings:
    """The served settings, but always the full prompt, the longest wall-clock limit and no approximate KV reuse (see the
    module's docstring)."""
    completion = settings.completion.model_copy(update={"prompt_budget_ms": 0, "max_seconds": 3600.0})
    local = settings.backend.local.model_copy(update={"reuse_shifted_cache": False})
    backend = settings.backend.model_copy(update={"local": local})
    return settings.model_copy(update={"completion": completion, "backend": backend})


def evaluate_with_model(
    engine: RepositoryContext,
    settings: ServerSettings,
    n: int,
    seed: int,
    variants: list[str] | tuple[str, ...] = VARIANTS,
    backend_factory: BackendFactory = default_backend_factory,
) -> Report:
    return asyncio.run(_evaluate_with_model(engine, settings, n, seed, list(variants), backend_factory))


async def _evaluate_with_model(
    engine: RepositoryContext,
    settings: ServerSettings,
    n: int,
    seed: int,
    variants: list[str],
    backend_factory: BackendFactory,
) -> Report:
    session = Session(eval_settings(settings), backend_factory, engine.privacy)  # one policy for engine and pipelines
    try:
        backend = session.backend
        await backend.ensure_ready()
        loop = asyncio.get_running_loop()
        # one pipeline per variant, without a completion cache: a cached answer at the name would serve the cursor
        # after 'name(' as if its start had been typed (each case is a cursor the model completes on its own)
        pipelines = {
            v: CompletionPipeline(
                backend,
                variant_settings(session.settings, v),
                engine,
                cache=CompletionCache(0),
                privacy=session.privacy,
            )
            for v in variants
        }

        def complete(case: Case, variant: str) -> Completed:
            request = CompletionRequest(case.uri, case.path, case.language_id, case.text, case.offset)
            before = getattr(backend, "last_stats", None)  # the local backend's figures of its last generation
            future = asyncio.run_coroutine_threadsafe(pipelines[variant].complete(request, threading.Event()), loop)
            completion = future.result()
            text = completion.text if completion is not None else ""
            stats = getattr(backend, "last_stats", None)
            if stats is None or stats is before:  # no figures, or no model call (a cached answer)
                return Completed(text)
            return Completed(
                text, stats.prompt_tokens, stats.prompt_tokens - stats.cached_tokens, stats.first_token_ms or 0.0
            )

        return await asyncio.to_thread(
            evaluate,
            engine,
            n,
            seed,
            complete,
            settings.context.budget_tokens,
            session.backend.count_tokens,
            served_window(settings),
            variants,
            _show_progress,
        )
    finally:
        await session.backend.aclose()
