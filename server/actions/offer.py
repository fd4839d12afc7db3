"""The code action menu: cheap to build (no model call, no parsing), so it appears instantly.

Each action carries ``ActionData`` for ``codeAction/resolve``, which computes the edit. Explain carries a
command instead: its answer is markdown to show, not an edit.
"""

from __future__ import annotations

from lsprotocol import types

from .kinds import ACTIONS, ActionData, DiagnosticData, wanted

EXPLAIN_COMMAND = "qwen.explain"
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
    only: list[str] | None,
) -> list[types.CodeAction]:
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
                actions.append(
                    types.CodeAction(
                        title=f"Fix with Qwen: {message[:60]}{'…' if len(message) > 60 else ''}",
                        kind=kind.lsp_kind,
                        diagnostics=[diagnostic],
                        data=fix.model_dump(mode="json"),
                    )
                )
            continue
        action = types.CodeAction(title=kind.title, kind=kind.lsp_kind, data=data.model_dump(mode="json"))
        if kind.id == "explain":
            action.command = types.Command(
                title=kind.title,
                command=EXPLAIN_COMMAND,
                arguments=[{"textDocument": {"uri": uri}, "range": _range_json(lsp_range)}],
            )
        actions.append(action)
    return actions
