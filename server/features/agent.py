"""``qwen.agentRefactor``: the agent loop behind one command, reported with ``$/progress`` and ending in one
``workspace/applyEdit`` that the client shows for approval (VS Code's refactor preview through
``needsConfirmation`` change annotations; the Neovim plugin's diff review).

The command's result (never a WorkspaceEdit, so clients do not apply anything twice) reports the summary, the
steps, the changed files, the verification and whether the edit was applied. ``$/cancelRequest`` and the
progress's cancel button stop the run; nothing is proposed after a cancel.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from lsprotocol import types

from qwen_lsp.context.base import ContextProvider, ContextRequest

from ..actions.editor import read_document, units
from ..actions.requests import Cancellation, RequestTracker, current_request, work_done_token
from ..actions.text import position_at
from ..actions.workspace_edit import EditSupport, build_workspace_edit
from ..agent.commands import command_environment
from ..agent.progress import AgentProgress
from ..agent.run import AgentEnvironment, AgentReport, AgentRequest, run_agent
from ..agent.tools import FoundDefinition, SymbolLookup
from ..documents import DocumentView, document_view, workspace_roots
from ..host import Host
from ..user_question import ask_user

log = logging.getLogger(__name__)
AGENT_COMMAND = "qwen.agentRefactor"


def register(server: Host) -> None:
    tracker = RequestTracker.install(server.protocol)  # before any request: it records each request's id and token

    @server.command(AGENT_COMMAND)
    async def agent_refactor(ls: Host, *args: Any) -> dict:
        settings = ls.session.settings
        if not settings.agent.enabled:
            raise ValueError("the agent is turned off (agent.enabled)")
        request = AgentRequest.parse(args[0] if args else {})
        with Cancellation(tracker) as cancel:
            env = _environment(ls, request)
            progress = AgentProgress(ls, work_done_token(current_request()), cancel.cancel, settings.agent.max_steps)
            await progress.begin("Qwen agent", request.instruction[:80] or request.scope)
            report: AgentReport | None = None
            try:
                report = await run_agent(request, env, cancel.event, progress.step)
            finally:
                progress.end(report.outcome.summary[:200] if report else "failed")
            result = _result(report)
            if cancel.cancelled or report.outcome.stop_reason == "cancelled":
                return {**result, "stopReason": "cancelled"}
            if not report.changes:
                return result
            checked = _verification_note(report)
            support = EditSupport.of(ls.client_capabilities)
            # An editor that cannot create files gets the edits to existing ones; the new files are reported.
            changes = [c for c in report.changes if c.old_text is not None or support.create_files]
            result["notCreated"] = [c.uri for c in report.changes if c not in changes]
            if not changes:
                return result
            if not support.annotations and not _client_reviews_edits(ls) and not await _user_approves(ls, report):
                return {**result, "failureReason": "the user did not apply the proposed edit"}
            edit = build_workspace_edit(
                changes,
                support,
                units(ls),
                types.ChangeAnnotation(
                    label=f"Qwen agent{checked}", needs_confirmation=True, description=report.outcome.summary[:300]
                ),
            )
            # The label is what the user reads while deciding: it carries the verification result.
            label = f"Qwen agent: {(request.instruction or 'refactor')[:60]}{checked}"
            response = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
            return {**result, "applied": bool(response.applied), "failureReason": response.failure_reason}


def _environment(ls: Host, request: AgentRequest) -> AgentEnvironment:
    settings = ls.session.settings
    document = (
        document_view(ls.workspace, request.uri) if request.uri and request.uri in ls.workspace.text_documents else None
    )
    roots = workspace_roots(ls.workspace)
    if not roots and document is not None and document.path is not None:
        roots = [document.path.parent]  # a single file opened without a folder: its folder is the workspace
        document = dataclasses.replace(document, root=document.path.parent)
    backend_settings = settings.backend
    window = settings.agent.context_tokens or (
        backend_settings.local.n_ctx if backend_settings.kind == "local" else 32768
    )
    provider = ls.session.context_provider
    return AgentEnvironment(
        backend=ls.session.backend,
        settings=settings.agent,
        roots=roots,
        read_source=lambda path: read_document(ls.workspace, path, settings.agent.max_file_kb * 1024),
        document=document,
        symbols=_symbol_lookup(provider) if roots else None,
        related=_related_code(provider, ls.session.backend.count_tokens),
        context_tokens=window,
        command_env=command_environment(settings.agent.command_env, (backend_settings.remote.api_key_env,)),
        secret_files=settings.privacy.secret_files,
        exclude=settings.context.exclude,
        privacy=ls.session.privacy,
        approve=lambda question: ask_user(ls, question, "Run", "Skip", types.MessageType.Warning),
    )


def _client_reviews_edits(ls: Host) -> bool:
    """The client shows agent edits for review itself (the Neovim plugin's diff declares this experimental
    capability); others without change annotations are asked here first."""
    experimental = ls.client_capabilities.experimental
    section = experimental.get("qwenLsp") if isinstance(experimental, dict) else None
    return isinstance(section, dict) and section.get("reviewsAgentEdits") is True


async def _user_approves(ls: Host, report: AgentReport) -> bool:
    """For editors that apply a ``workspace/applyEdit`` without showing it: the user decides before it is sent."""
    files = ", ".join(f"{f['path']} (+{f['added']} -{f['removed']})" for f in report.files[:6])
    more = f" and {len(report.files) - 6} more" if len(report.files) > 6 else ""
    question = (
        f"Qwen agent proposes changes to {files}{more}{_verification_note(report)}: "
        f"{report.outcome.summary[:200]} Apply them?"
    )
    return await ask_user(ls, question, "Apply", "Discard", types.MessageType.Warning)


def _symbol_lookup(provider: ContextProvider) -> SymbolLookup:
    """Definitions by name from the context provider (the repository index; the run's path rules decide which it may
    show)."""

    def lookup(name: str) -> list[FoundDefinition]:
        return [
            FoundDefinition(definition.key, definition.line + 1, definition.kind, definition.name)
            for definition in provider.find_definitions(name)[:20]
        ]

    return lookup


def _related_code(provider: ContextProvider, count_tokens):
    """Related definitions and similar code around the scope from the repository context engine."""

    def related(doc: DocumentView, offset: int, budget: int) -> list[tuple[str, str]]:
        position = position_at(doc.text, offset, len)
        request = ContextRequest(
            uri=doc.uri,
            path=doc.rel_path,
            language_id=doc.language_id,
            text=doc.text,
            offset=offset,
            line=position.line,
            character=position.character,
            budget_tokens=budget,
            count_tokens=count_tokens,
        )
        try:
            return [(s.path, s.text) for s in provider.gather(request).snippets]
        except Exception:
            log.debug("repository context failed", exc_info=True)
            return []

    return related


def _verification_note(report: AgentReport) -> str:
    """' (tests passed)' / ' (tests FAILED)', plus files left with syntax errors; '' when nothing was checked."""
    notes = []
    if report.verification is not None and not report.verification.ran:
        notes.append("tests not run")
    elif report.verification is not None:
        notes.append("tests passed" if report.verification.passed else "tests FAILED")
    broken = [f["path"] for f in report.files if f.get("syntaxError")]
    if broken:
        notes.append(f"syntax errors in {', '.join(broken[:3])}")
    return f" ({'; '.join(notes)})" if notes else ""


def _result(report: AgentReport) -> dict:
    outcome = report.outcome
    return {
        "summary": outcome.summary,
        "stopReason": outcome.stop_reason,
        "steps": [
            {"step": s.step, "tool": s.tool, "arguments": s.arguments, "ok": s.ok, "result": s.result}
            for s in outcome.steps
        ],
        "modelCalls": outcome.model_calls,
        "files": report.files,
        "verification": report.verification.as_json() if report.verification else None,
        "applied": False,
        "failureReason": None,
        "notCreated": [],
    }
