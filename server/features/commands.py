"""``workspace/executeCommand``: accept a completion, inspect the context of a position."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from lsprotocol import types

from ..completion.inspection import describe_prompt
from ..documents import DocumentError, snapshot
from ..host import Host
from ..protocol.params import field
from .inline_completion import ACCEPT_COMMAND

log = logging.getLogger(__name__)
INSPECT_CONTEXT = "qwen.inspectContext"
SERVER_STATUS = "qwen.serverStatus"


def register(server: Host) -> None:
    @server.command(ACCEPT_COMMAND)
    def accept_completion(ls: Host, *args: Any) -> None:
        completion_id = field(args[0], "id") if args else None
        if completion_id:
            ls.stats.accepted(str(completion_id))

    @server.command(SERVER_STATUS)
    def server_status(ls: Host, *args: Any) -> dict:
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
    async def inspect_context(ls: Host, *args: Any) -> dict:
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
            build, ls.session.backend.count_tokens, ls.session.pipeline.settings.context.tokens_per_completion
        )
