"""``workspace/executeCommand``: accept a completion, inspect the context of a position."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from lsprotocol import types

from ..app import QwenLanguageServer  # at run time: pygls resolves command handler annotations
from ..completion.pipeline import PromptBuild
from ..documents import DocumentError, snapshot
from .inline_completion import ACCEPT_COMMAND
from .telemetry import field

log = logging.getLogger(__name__)
INSPECT_CONTEXT = "qwen.inspectContext"
SERVER_STATUS = "qwen.serverStatus"


def register(server: QwenLanguageServer) -> None:
    @server.command(ACCEPT_COMMAND)
    def accept_completion(ls: QwenLanguageServer, *args: Any) -> None:
        completion_id = field(args[0], "id") if args else None
        if completion_id:
            ls.stats.accepted(str(completion_id))

    @server.command(SERVER_STATUS)
    def server_status(ls: QwenLanguageServer, *args: Any) -> dict:
        status = ls.session.backend.status()
        return {
            "state": status.state,
            "model": status.model,
            "detail": status.detail,
            "problems": list(ls.problems.active.values()),
            "requests": {"started": ls.inflight.started, "superseded": ls.inflight.superseded},
            "pipeline": dataclasses.asdict(ls.session.counters),
            "background": {
                **dataclasses.asdict(ls.prewarmer.counters),
                "pipeline": dataclasses.asdict(ls.session.pipeline.background_counters),
            },
            "kv_cache": ls.session.backend.cache_report(),
        }

    @server.command(INSPECT_CONTEXT)
    async def inspect_context(ls: QwenLanguageServer, *args: Any) -> dict:
        arguments = args[0] if args else {}
        text_document = field(arguments, "textDocument") or {}
        position = field(arguments, "position") or {}
        uri = field(text_document, "uri")
        if not uri:
            return {"error": "expected arguments {textDocument: {uri}, position: {line, character}}"}
        try:
            lsp_position = types.Position(
                line=int(field(position, "line", 0)), character=int(field(position, "character", 0))
            )
            request = snapshot(ls.workspace, uri, lsp_position)
        except (DocumentError, TypeError, ValueError) as error:
            return {"error": str(error)}
        build = await ls.session.pipeline.build_prompt(request)
        return describe_prompt(
            build, ls.session.backend.count_tokens, ls.session.pipeline.options.context_budget_tokens
        )


def describe_prompt(build: PromptBuild, count_tokens, budget: int) -> dict:
    """The JSON shape of ``qwen.inspectContext`` and ``qwen-lsp context --json``."""
    return {
        "prompt": build.prompt.text,
        "prompt_tokens": count_tokens(build.prompt.text),
        "budget": budget,
        "template": build.template.family,
        "shape": build.shape,
        "snippets": [
            {
                "uri": s.uri,
                "path": s.path,
                "range": {"start": {"line": s.start_line, "character": 0}, "end": {"line": s.end_line, "character": 0}},
                "source": s.source,
                "score": round(s.score, 4),
                "tokens": s.tokens,
            }
            for s in build.context.snippets
        ],
        "timings_ms": {**build.timings_ms, **{f"context.{k}": v for k, v in build.context.timings_ms.items()}},
    }
