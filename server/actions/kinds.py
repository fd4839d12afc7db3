"""The code actions on offer, and the data a code action carries from the menu to ``codeAction/resolve``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ActionId = Literal["refactor", "explain", "docstring", "fix", "tests"]


@dataclass(frozen=True)
class ActionKind:
    id: ActionId
    title: str
    lsp_kind: str  # hierarchical LSP CodeActionKind; clients filter menus by prefix ("refactor", "quickfix")
    edits: bool  # False: the answer is markdown shown to the user, not an edit


ACTIONS: tuple[ActionKind, ...] = (
    ActionKind("refactor", "Refactor with Qwen…", "refactor.rewrite.qwen", True),
    ActionKind("explain", "Explain (Qwen)", "refactor.qwen.explain", False),
    ActionKind("docstring", "Add docstring/comments (Qwen)", "refactor.rewrite.qwen.docstring", True),
    ActionKind("fix", "Fix this diagnostic (Qwen)", "quickfix.qwen", True),
    ActionKind("tests", "Write tests (Qwen)", "refactor.qwen.tests", True),
)
BY_ID = {action.id: action for action in ACTIONS}


def wanted(kind: ActionKind, only: Sequence[str] | None) -> bool:
    """Whether a request's ``context.only`` filter admits ``kind`` (LSP kinds match by dotted prefix)."""
    if not only:
        return True
    return any(kind.lsp_kind == o or kind.lsp_kind.startswith(o + ".") or o == "" for o in only)


class DiagnosticData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    message: str
    start_line: int
    end_line: int
    severity: int | None = None
    source: str | None = None
    code: str | None = None


class ActionData(BaseModel):
    """``CodeAction.data``: everything resolve needs, as plain JSON (clients echo it back unchanged)."""

    model_config = ConfigDict(extra="ignore")

    action: ActionId
    uri: str
    range: dict[str, Any]
    version: int | None = None
    instruction: str = ""
    diagnostics: list[DiagnosticData] = Field(default_factory=list)
