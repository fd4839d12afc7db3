"""Running one code action: the prompt, the model call, the answer turned into an edit (or markdown).

Pure of LSP wiring: the feature module passes a document view, the client's edit support and a cancel flag.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types

from qwen_lsp.clients.base import Backend

from ..documents import DocumentView
from .answers import AnswerError, extract_code, extract_markdown, replacement_for
from .kinds import ActionData
from .prompts import ActionPrompt, messages_for
from .settings import ActionsSettings
from .syntax import drop_repeated_blocks, parseable_prefix
from .tests_location import python_module, where_tests_go
from .text import Selection, Units, offset_at, selection_for, utf16_units
from .workspace_edit import EditSupport, FileChange, build_workspace_edit

log = logging.getLogger(__name__)
ReadDocument = Callable[[Path], "tuple[str, int | None] | None"]  # (text, editor version) of a file, or None


class ActionCancelled(Exception):
    """The client cancelled the request while the model was working."""


@dataclass
class ActionOutcome:
    edit: types.WorkspaceEdit | None = None
    markdown: str | None = None
    target_uri: str | None = None  # the file the edit creates or changes, when not the document itself


def selection_of(doc: DocumentView, data: ActionData, units: Units = utf16_units) -> Selection:
    lsp_range = types.Range(start=types.Position(**data.range["start"]), end=types.Position(**data.range["end"]))
    start, end = offset_at(doc.text, lsp_range.start, units), offset_at(doc.text, lsp_range.end, units)
    if data.action == "fix" and end > start:
        # A diagnostic marks a token; the fix usually needs its whole function.
        return selection_for(doc.text, start, start, doc.language_id, doc.rel_path)
    return selection_for(doc.text, start, max(start, end), doc.language_id, doc.rel_path)


@dataclass(frozen=True)
class Answer:
    text: str
    cut_off: bool  # generation stopped at max_tokens


async def ask_model(
    backend: Backend, prompt: ActionPrompt, settings: ActionsSettings, cancel: threading.Event
) -> Answer:
    thinking = settings.thinking_for(prompt.action)
    params = settings.sampling.params(settings.max_tokens, thinking=thinking)
    reply = await backend.chat(messages_for(prompt, thinking), params, None, cancel)
    if cancel.is_set() or reply.finish_reason == "cancelled":
        raise ActionCancelled()
    content = reply.content
    if "<think>" in content and "</think>" not in content:  # thinking without a budget ran into max_tokens
        raise AnswerError(
            f"the model spent all of actions.max_tokens thinking; set actions.thinking.{prompt.action}.mode to 'on' "
            f"(thinking within its budget_tokens, then an answer) or to 'off'"
        )
    return Answer(content, reply.finish_reason == "length")


async def run_action(
    backend: Backend,
    doc: DocumentView,
    data: ActionData,
    settings: ActionsSettings,
    support: EditSupport,
    cancel: threading.Event,
    read_document: ReadDocument,
    units: Units = utf16_units,
) -> ActionOutcome:
    selection = selection_of(doc, data, units)
    if len(selection.code) > settings.max_selection_chars:
        raise AnswerError(
            f"the selection has {len(selection.code)} characters, more than actions.max_selection_chars "
            f"({settings.max_selection_chars}); select less"
        )
    instruction = data.instruction.strip()
    if data.action == "refactor" and not instruction:
        instruction = settings.default_instruction
    target = where_tests_go(doc.path, doc.language_id, doc.root) if data.action == "tests" and doc.path else None
    prompt = ActionPrompt(
        action=data.action,
        path=doc.rel_path,
        language=doc.language_id,
        selection=selection,
        instruction=instruction,
        diagnostics=data.diagnostics,
        surrounding_chars=settings.surrounding_chars,
        test_module=python_module(doc.path, doc.root) if doc.path and doc.language_id == "python" and target else "",
    )
    answer = await ask_model(backend, prompt, settings, cancel)
    if data.action == "explain":
        cut = "\n\n*(The answer was cut off at actions.max_tokens.)*" if answer.cut_off else ""
        return ActionOutcome(markdown=extract_markdown(answer.text) + cut)
    if data.action == "tests":
        code = drop_repeated_blocks(extract_code(answer.text, doc.language_id))
        if answer.cut_off:  # keep the complete tests, drop the one cut in half
            code = parseable_prefix(target or Path(doc.rel_path), code) or ""
            if not code.strip():
                raise AnswerError(_cut_off_message(settings))
        return _tests_outcome(doc, selection, code, target, support, read_document, units)
    if answer.cut_off:  # half a function would replace the whole selection
        raise AnswerError(_cut_off_message(settings))
    replacement = replacement_for(
        answer.text, doc.language_id, selection.code, prompt.shown_before(), prompt.shown_after()
    )
    before = selection.before[: len(selection.before) - replacement.before_chars]
    new_text = before + replacement.text + selection.after[replacement.after_chars :]
    change = FileChange(doc.uri, doc.text, new_text, doc.version)
    return ActionOutcome(edit=build_workspace_edit([change], support, units))


def _cut_off_message(settings: ActionsSettings) -> str:
    return f"the answer was cut off at actions.max_tokens ({settings.max_tokens} tokens); raise it or select less code"


def _tests_outcome(
    doc: DocumentView,
    selection: Selection,
    code: str,
    target: Path | None,
    support: EditSupport,
    read_document: ReadDocument,
    units: Units,
) -> ActionOutcome:
    code = code.strip("\n") + "\n"
    if target is not None:
        existing = read_document(target)
        if existing is not None:
            text, version = existing
            joined = text.rstrip("\n") + "\n\n\n" + code if text.strip() else code
            change = FileChange(target.as_uri(), text, joined, version)
            return ActionOutcome(edit=build_workspace_edit([change], support, units), target_uri=target.as_uri())
        if support.create_files:
            change = FileChange(target.as_uri(), None, code)
            return ActionOutcome(edit=build_workspace_edit([change], support, units), target_uri=target.as_uri())
    # No separate test file (or the client cannot create one): the tests go after the selected code.
    after = selection.after
    new_text = (
        selection.before + selection.code.rstrip("\n") + "\n\n\n" + code + ("\n" if after.strip() else "") + after
    )
    change = FileChange(doc.uri, doc.text, new_text, doc.version)
    return ActionOutcome(edit=build_workspace_edit([change], support, units))
