"""``textDocument/codeAction`` + ``codeAction/resolve`` (the Qwen actions) and the ``qwen.refactor`` /
``qwen.explain`` commands.

The menu is built without a model call; ``codeAction/resolve`` runs the model and fills in the edit (clients
that cannot resolve edits get a ``qwen.applyAction`` command that computes the edit and sends it with
``workspace/applyEdit``). Explain
writes its markdown to a file and asks the client to open it with ``window/showDocument`` (VS Code and Neovim
both do), falling back to ``window/showMessage``; the command's result also carries the markdown.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import ValidationError

from qwen_lsp.clients.base import BackendError

from ..actions.answers import AnswerError
from ..actions.editor import read_document, units
from ..actions.kinds import ACTIONS, BY_ID, ActionData
from ..actions.offer import APPLY_ACTION_COMMAND, EXPLAIN_COMMAND, offer_actions
from ..actions.requests import Cancellation, RequestTracker
from ..actions.service import ActionCancelled, ActionOutcome, run_action
from ..actions.workspace_edit import EditSupport
from ..documents import DocumentError, document_view
from ..host import Host
from ..protocol.params import field
from ..stats import data_dir

log = logging.getLogger(__name__)
REFACTOR_COMMAND = "qwen.refactor"


def register(server: Host) -> None:
    RequestTracker.install(server.protocol)  # before any request, so commands can be cancelled
    kinds = sorted({a.lsp_kind for a in ACTIONS})
    options = types.CodeActionOptions(code_action_kinds=kinds, resolve_provider=True)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)
    def code_action(ls: Host, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        if not ls.session.settings.actions.enabled:
            return None
        document = ls.workspace.text_documents.get(params.text_document.uri)
        if document is None or _kept_out(ls, params.text_document.uri):
            return None  # keys, credentials and ignored files are never sent to a model
        return (
            offer_actions(
                params.text_document.uri,
                document.source,
                document.version,
                params.range,
                list(params.context.diagnostics or []),
                params.context.only,
                _resolves_edits(ls),
            )
            or None
        )

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: Host, action: types.CodeAction) -> types.CodeAction:
        try:
            data = ActionData.model_validate(action.data)
        except ValidationError:
            return action  # not one of ours, or mangled by the client: nothing to add
        if data.action == "explain":
            return action  # its command does the work when the client runs it
        outcome, _ = await _attempt(ls, data)
        action.edit = outcome.edit if outcome else None
        return action

    @server.command(REFACTOR_COMMAND)
    async def refactor(ls: Host, *args: Any) -> Any:
        """``{"textDocument": {"uri"}, "range", "instruction"}`` → the ``WorkspaceEdit`` (the client applies it)."""
        data = _data_from_arguments(args, "refactor")
        outcome, _ = await _attempt(ls, data)  # a rejected answer is shown, not thrown at the editor
        return outcome.edit if outcome else None

    @server.command(APPLY_ACTION_COMMAND)
    async def apply_action(ls: Host, *args: Any) -> dict:
        """For clients without ``codeAction/resolve``: compute the action's edit and send it with
        ``workspace/applyEdit``."""
        data = ActionData.model_validate(args[0] if args else {})
        outcome, problem = await _attempt(ls, data)
        if outcome is None or outcome.edit is None:
            return {"applied": False, "error": problem}
        params = types.ApplyWorkspaceEditParams(edit=outcome.edit, label=BY_ID[data.action].title.rstrip("…"))
        response = await ls.workspace_apply_edit_async(params)
        return {"applied": bool(response.applied), "failureReason": response.failure_reason}

    @server.command(EXPLAIN_COMMAND)
    async def explain(ls: Host, *args: Any) -> dict:
        """``{"textDocument": {"uri"}, "range"}`` → ``{"markdown", "uri"}``, shown to the user as well."""
        data = _data_from_arguments(args, "explain")
        outcome, problem = await _attempt(ls, data)
        if outcome is None:
            return {"error": problem}
        uri = await _show_markdown(ls, data, outcome.markdown or "")
        return {"markdown": outcome.markdown, "uri": uri}


def _data_from_arguments(args: tuple, action: str) -> ActionData:
    arguments = args[0] if args else {}
    text_document = field(arguments, "textDocument") or {}
    uri = field(text_document, "uri")
    lsp_range = field(arguments, "range")
    if not uri or not lsp_range:
        raise ValueError(f"expected arguments {{textDocument: {{uri}}, range, instruction?}} for {action}")
    if not isinstance(lsp_range, dict):
        lsp_range = {
            "start": {"line": lsp_range.start.line, "character": lsp_range.start.character},
            "end": {"line": lsp_range.end.line, "character": lsp_range.end.character},
        }
    return ActionData(action=action, uri=uri, range=lsp_range, instruction=str(field(arguments, "instruction") or ""))


async def _attempt(ls: Host, data: ActionData) -> tuple[ActionOutcome | None, str | None]:
    """The outcome, or None and what went wrong (already shown to the user; "cancelled" is not shown)."""
    try:
        return await _run(ls, data), None
    except ActionCancelled:
        return None, "cancelled"
    except (AnswerError, BackendError, DocumentError) as error:
        _show_error(ls, BY_ID[data.action].title, error)
        return None, str(error)


async def _run(ls: Host, data: ActionData) -> ActionOutcome:
    doc = document_view(ls.workspace, data.uri)
    if reason := _kept_out(ls, data.uri):
        raise DocumentError(f"{reason}: it is never sent to a model")
    if data.version is not None and doc.version is not None and data.version != doc.version:
        raise DocumentError("the document changed since the action was offered; run it again")
    with Cancellation(RequestTracker.install(ls.protocol)) as cancel:
        outcome = await run_action(
            ls.session.backend,
            doc,
            data,
            ls.session.settings.actions,
            EditSupport.of(ls.client_capabilities),
            cancel.event,
            lambda path: read_document(ls.workspace, path),
            units(ls),
        )
    current = ls.workspace.text_documents.get(data.uri)
    if outcome.edit is not None and current is not None and current.version != doc.version:
        raise DocumentError("the document changed while Qwen was working; run the action again")
    return outcome


def _resolves_edits(ls: Host) -> bool:
    text_document = ls.client_capabilities.text_document
    code_action = text_document.code_action if text_document else None
    support = code_action.resolve_support if code_action else None
    return bool(support and "edit" in support.properties)


def _kept_out(ls: Host, uri: str) -> str | None:
    """Why the privacy policy keeps this document away from models, or None."""
    return ls.session.privacy.why_kept_out(uri)


def _show_error(ls: Host, title: str, error: Exception) -> None:
    log.warning("%s failed: %s", title, error)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=f"qwen-lsp: {title}: {error}"))


async def _show_markdown(ls: Host, data: ActionData, markdown: str) -> str | None:
    """Write the explanation to a markdown file and open it in the editor; show it as a message otherwise."""
    configured = ls.session.settings.actions.explanations_dir
    folder = Path(configured).expanduser() if configured else data_dir() / "explanations"
    stem = re.sub(r"[^\w.-]+", "_", Path(data.uri).stem) or "code"
    first, last = data.range["start"]["line"] + 1, data.range["end"]["line"] + 1
    path = folder / f"{stem}-L{first}-L{last}.md"
    window = ls.client_capabilities.window
    can_show = bool(window and window.show_document and window.show_document.support)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(
            f"# Explanation of {Path(data.uri).name}, lines {first}-{last}\n\n{markdown}\n", encoding="utf-8"
        )
    except OSError as error:
        log.warning("cannot write %s: %s", path, error)
        can_show = False
    if can_show:
        try:
            result = await ls.window_show_document_async(types.ShowDocumentParams(uri=path.as_uri(), take_focus=True))
            if result.success:
                return path.as_uri()
        except Exception:
            log.debug("window/showDocument failed", exc_info=True)
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=markdown))
    return None
