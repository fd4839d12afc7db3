"""``qwen-lsp complete FILE:LINE:COL``: the server's pipeline without an editor, printing timings."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from qwen_lsp.clients.base import BackendError
from qwen_lsp.context.privacy import PrivacyPolicy

from ..completion import prefilter
from ..completion.request import CompletionRequest
from ..config import ServerSettings, env_overrides, load_settings
from ..context_wiring import attach_repository_context
from ..documents import DocumentError, file_snapshot
from ..session import Session, privacy_policy


def parse_location(location: str) -> tuple[Path, int, int]:
    """``path:line:col`` (1-based) → (path, line, col). Paths may contain colons (Windows drives)."""
    try:
        path, line, col = location.rsplit(":", 2)
        return Path(path), int(line), int(col)
    except ValueError:
        raise SystemExit(f"error: expected FILE:LINE:COL (1-based), got {location!r}") from None


def repository_root(path: Path) -> Path:
    try:
        out = subprocess.run(
            ["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"], capture_output=True, text=True, timeout=5
        )
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return path.parent


def prepare(args: argparse.Namespace) -> tuple[ServerSettings, CompletionRequest, Path]:
    """Settings, the request at FILE:LINE:COL and the repository root, from the command line."""
    path, line, col = parse_location(args.location)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SystemExit(f"error: cannot read {path}: {error}") from None
    overrides = {"backend": {"local": {"model": args.model}}} if getattr(args, "model", None) else {}
    settings, warnings = load_settings(env_overrides(), overrides)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    root = Path(args.root).resolve() if args.root else repository_root(path.resolve())
    try:
        request = file_snapshot(path, text, line, col, root)
    except DocumentError as error:
        raise SystemExit(f"error: {error}") from None
    return settings, request, root


def run_complete(args: argparse.Namespace) -> int:
    settings, request, root = prepare(args)
    privacy = privacy_policy(settings, [root])  # the session's too: one policy
    decision = prefilter.decide(
        request, settings.completion.disabled_languages, settings.completion.ignored_globs, privacy
    )
    if decision.kind == "none":
        return _no_completion(f"no completion here: {decision.reason}", args.json, 3)
    try:
        return asyncio.run(_complete(settings, request, root, args.json, privacy))
    except BackendError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


DEMO_LOCATION = (14, 5)  # in demo_sample.py: the empty body of order_total


def run_demo(args: argparse.Namespace) -> int:
    """``qwen-lsp demo``: complete the bundled sample, so an install can be tried without a checkout."""
    import importlib.resources
    import tempfile

    sample = importlib.resources.files("qwen_lsp.server.cli").joinpath("demo_sample.py").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="qwen-lsp-demo-") as folder:
        path = Path(folder) / "orders.py"
        path.write_text(sample, encoding="utf-8")
        line, col = DEMO_LOCATION
        print(f"completing the body of order_total() in {path.name} at {line}:{col}:", file=sys.stderr)
        demo = argparse.Namespace(location=f"{path}:{line}:{col}", root=folder, model=args.model, json=args.json)
        return run_complete(demo)


@asynccontextmanager
async def cli_session(
    settings: ServerSettings, request: CompletionRequest, root: Path, privacy: PrivacyPolicy | None = None
) -> AsyncIterator[Session]:
    """A session like the server's: the backend, and the repository indexed with the request's document open. One
    request with nothing after it: the full prompt, however long it takes (no time budget)."""
    completion = settings.completion.model_copy(update={"prompt_budget_ms": 0})
    session = Session(settings.model_copy(update={"completion": completion}), privacy=privacy)
    provider = None
    try:
        provider = await attach_repository_context(session, [root], wait=True)
        if provider is not None:
            provider.document_changed(request.uri, request.text, None, request.language_id)
            provider.wait_idle(10)
        yield session
    finally:
        if provider is not None:
            provider.stop()
        await session.backend.aclose()


async def _complete(
    settings: ServerSettings, request: CompletionRequest, root: Path, as_json: bool, privacy: PrivacyPolicy
) -> int:
    async with cli_session(settings, request, root, privacy) as session:
        started = time.perf_counter()
        await session.backend.ensure_ready()
        load_ms = (time.perf_counter() - started) * 1000
        completion = await session.pipeline.complete(request, threading.Event())
    if completion is None:
        return _no_completion("no completion (the model produced nothing useful here)", as_json, 4)
    timings = {"model_load": round(load_ms, 1), **(completion.timings_ms or {}), "total_request": completion.latency_ms}
    if as_json:
        print(json.dumps({"completion": completion.text, "model": completion.model, "timings_ms": timings}))
    else:
        print(completion.text)
        print("---", file=sys.stderr)
        print(f"model: {completion.model}", file=sys.stderr)
        for name, value in timings.items():
            print(f"{name:>16}: {value:8.1f} ms", file=sys.stderr)
    return 0


def _no_completion(reason: str, as_json: bool, code: int) -> int:
    if as_json:
        print(json.dumps({"completion": None, "reason": reason}))
    print(reason, file=sys.stderr)
    return code
