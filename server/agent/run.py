"""One agent run from request to proposal: scope → task → loop → staged changes → verification.

No LSP here: the feature module supplies the backend, the workspace folders, a reader for open documents,
and optional repository lookups, and turns the report into ``$/progress``, ``workspace/applyEdit`` and the
command's result.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qwen_lsp.clients.base import Backend
from qwen_lsp.context.privacy import DEFAULT_SECRET_FILES, PrivacyPolicy

from ..actions.text import Selection, offset_at, selection_for
from ..actions.workspace_edit import FileChange
from ..documents import DocumentView
from .loop import AgentLoop, AgentOutcome, StepListener
from .paths import PathError, WorkspacePaths
from .prompts import AgentTask, system_message
from .runner import Approval, CommandRunner
from .sandbox import WorkspaceCopy
from .settings import AgentSettings
from .staging import SourceReader, StagedFiles
from .tools import SymbolLookup, Toolbox
from .verify import Verification, verify

log = logging.getLogger(__name__)
DEFAULT_INSTRUCTION = "Improve the readability and structure of this code without changing its behaviour."
RelatedCode = Callable[[DocumentView, int, int], "list[tuple[str, str]]"]  # (doc, offset, budget) → (path, code)
MAX_LISTING = 200


class AgentRequest(BaseModel):
    """The ``qwen.agentRefactor`` arguments."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    instruction: str = ""
    scope: Literal["selection", "file", "workspace"] = "file"
    text_document: dict[str, Any] | None = Field(None, alias="textDocument")
    range: dict[str, Any] | None = None

    @property
    def uri(self) -> str | None:
        return (self.text_document or {}).get("uri")

    @classmethod
    def parse(cls, arguments: Any) -> AgentRequest:
        try:
            return cls.model_validate(arguments if isinstance(arguments, dict) else {})
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in error.errors())
            raise ValueError(
                f"bad qwen.agentRefactor arguments ({problems}); expected {{instruction, scope: "
                "selection|file|workspace, textDocument: {uri}, range}"
            ) from None


@dataclass
class AgentEnvironment:
    backend: Backend
    settings: AgentSettings
    roots: list[Path]
    read_source: SourceReader
    document: DocumentView | None = None
    symbols: SymbolLookup | None = None
    related: RelatedCode | None = None
    context_tokens: int = 8192
    command_env: dict[str, str] = field(default_factory=dict)
    secret_files: list[str] = field(default_factory=lambda: list(DEFAULT_SECRET_FILES))  # privacy.secret_files
    exclude: list[str] = field(default_factory=list)  # context.exclude
    privacy: PrivacyPolicy | None = None  # the session's, with these patterns: its ignore-rules cache serves the run
    approve: Approval | None = None  # asks the user before a command runs without a sandbox


@dataclass
class AgentReport:
    outcome: AgentOutcome
    changes: list[FileChange]
    files: list[dict] = field(default_factory=list)
    verification: Verification | None = None


def _selection(request: AgentRequest, doc: DocumentView) -> Selection:
    from lsprotocol import types

    rng = request.range or {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    start = offset_at(doc.text, types.Position(**rng["start"]))
    end = offset_at(doc.text, types.Position(**rng["end"]))
    return selection_for(doc.text, start, max(start, end), doc.language_id, doc.rel_path)


async def build_task(
    request: AgentRequest, env: AgentEnvironment, paths: WorkspacePaths, toolbox: Toolbox
) -> AgentTask:
    doc = env.document
    scope = request.scope if doc is not None else "workspace"
    task = AgentTask(instruction=request.instruction.strip() or DEFAULT_INSTRUCTION, scope=scope)
    offset = 0
    if doc is not None:
        if doc.path is not None:
            shown = paths.resolve(str(doc.path))  # refuses a secret or out-of-workspace file before anything is sent
            task.path = paths.relative(shown.path)
        else:
            task.path = doc.rel_path
        task.language = doc.language_id
        if scope == "selection":
            selection = _selection(request, doc)
            first = selection.first_line() + 1
            task.selection = selection.code
            task.selection_lines = (first, first + max(selection.code.rstrip("\n").count("\n"), 0))
            offset = selection.start
        elif scope == "file" and env.backend.count_tokens(doc.text) <= env.context_tokens // 3:
            task.file_text = doc.text
    if scope == "workspace":
        listing = await asyncio.to_thread(toolbox.walk, paths.resolve("."), None)
        task.files = listing[:MAX_LISTING] + (["…"] if len(listing) > MAX_LISTING else [])
    budget = env.settings.repository_context_tokens
    budget = env.context_tokens // 4 if budget is None else budget  # long windows get whole related files
    if doc is not None and env.related is not None and budget > 0:
        related = await asyncio.to_thread(env.related, doc, offset, budget)
        task.related = [(path, code) for path, code in related if _visible(paths, path)]
    return task


def _visible(paths: WorkspacePaths, path: str) -> bool:
    try:
        paths.resolve(path)
    except PathError:
        return False
    return True


async def run_agent(
    request: AgentRequest, env: AgentEnvironment, cancel: threading.Event, on_step: StepListener | None = None
) -> AgentReport:
    settings = env.settings
    paths = WorkspacePaths(env.roots, env.secret_files, env.exclude, env.privacy)
    staged = StagedFiles(env.read_source)
    doc_root = env.document.root if env.document is not None and env.document.root else None
    copy = WorkspaceCopy(paths, (doc_root or paths.primary).resolve(), settings.copy_max_files)
    others = [root for root in paths.roots if root != copy.root]
    runner = CommandRunner(copy, settings, env.command_env, env.approve, others)
    toolbox = Toolbox(paths, staged, settings, runner, env.symbols)
    try:
        task = await build_task(request, env, paths, toolbox)
        messages = [
            {"role": "system", "content": system_message(settings.allowed_commands)},
            {"role": "user", "content": task.user_message()},
        ]
        loop = AgentLoop(env.backend, toolbox, settings, cancel, env.context_tokens, on_step)
        outcome = await loop.run(messages)
        verification = None
        staged_texts = staged.staged_texts()
        if staged_texts and settings.test_command and not cancel.is_set():
            if on_step is not None:
                on_step(settings.max_steps, f"verifying: {settings.test_command}")
            verification = await verify(runner, staged_texts, settings.test_command)
            if on_step is not None:
                verdict = "not run" if not verification.ran else "passed" if verification.passed else "FAILED"
                on_step(settings.max_steps, f"verification: {verdict}")
        return AgentReport(outcome, staged.changes(), staged.summary(paths.relative), verification)
    finally:
        await asyncio.to_thread(copy.cleanup)
