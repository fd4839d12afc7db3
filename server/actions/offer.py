"""The code action menu: cheap to build (no model call, no parsing), so it appears instantly.

Each action carries ``ActionData`` for ``codeAction/resolve``, which computes the edit. Explain carries a
command instead: its answer is markdown to show, not an edit.
"""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from .kinds import ACTIONS, ActionData, DiagnosticData, wanted

EXPLAIN_COMMAND = "qwen.explain"
APPLY_ACTION_COMMAND = "qwen.applyAction"  # for clients without codeAction/resolve: compute, then workspace/applyEdit
MAX_FIX_ACTIONS = 3


def _range_json(lsp_range: types.Range) -> dict:
    return {
        "start": {"line": lsp_range.start.line, "character": lsp_range.start.character},
        "end": {"line": lsp_range.end.line, "character": lsp_range.end.character},
    }


def diagnostic_data(diagnostic: types.Diagnostic) -> DiagnosticData:
    return DiagnosticData(
        message=diagnostic.message,
        start_line=diagnostic.range.start.line,
        end_line=diagnostic.range.end.line,
        severity=int(diagnostic.severity) if diagnostic.severity is not None else None,
        source=diagnostic.source,
        code=str(diagnostic.code) if diagnostic.code is not None else None,
    )


def offer_actions(
    uri: str,
    text: str,
    version: int | None,
    lsp_range: types.Range,
    diagnostics: list[types.Diagnostic],
    only: Sequence[str] | None,
    resolves_edits: bool = True,
) -> list[types.CodeAction]:
    """The menu. Clients that cannot resolve an action's edit get a command computing and applying it instead."""
    if not text.strip():
        return []
    actions: list[types.CodeAction] = []
    for kind in ACTIONS:
        if not wanted(kind, only):
            continue
        data = ActionData(action=kind.id, uri=uri, range=_range_json(lsp_range), version=version)
        if kind.id == "fix":
            for diagnostic in diagnostics[:MAX_FIX_ACTIONS]:
                fix = data.model_copy(
                    update={"range": _range_json(diagnostic.range), "diagnostics": [diagnostic_data(diagnostic)]}
                )
                message = " ".join(diagnostic.message.split())
                title = f"Fix with Qwen: {message[:60]}{'…' if len(message) > 60 else ''}"
                action = types.CodeAction(title=title, kind=kind.lsp_kind, diagnostics=[diagnostic])
                actions.append(_carry(action, fix, resolves_edits))
            continue
        action = types.CodeAction(title=kind.title, kind=kind.lsp_kind)
        if kind.id == "explain":
            action.data = data.model_dump(mode="json")
            action.command = types.Command(
                title=kind.title,
                command=EXPLAIN_COMMAND,
                arguments=[{"textDocument": {"uri": uri}, "range": _range_json(lsp_range)}],
            )
            actions.append(action)
        else:
            actions.append(_carry(action, data, resolves_edits))
    return actions


def _carry(action: types.CodeAction, data: ActionData, resolves_edits: bool) -> types.CodeAction:
    """Attach what computes the edit later: ``data`` for ``codeAction/resolve``, or the apply command."""
    payload = data.model_dump(mode="json")
    if resolves_edits:
        action.data = payload
    else:
        action.command = types.Command(title=action.title, command=APPLY_ACTION_COMMAND, arguments=[payload])
    return action
