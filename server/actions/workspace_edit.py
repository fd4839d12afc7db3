"""Building the ``WorkspaceEdit`` for changed and new files, shaped for what the client declares it supports.

Edits are minimal line-level replacements (a diff of old and new text), so a refactor preview shows only the
lines that change and the editor keeps its markers elsewhere. Positions are in the client's code units.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

from .text import Units, position_at, utf16_units

ANNOTATION_ID = "qwen.agentRefactor"


@dataclass(frozen=True)
class FileChange:
    uri: str
    old_text: str | None  # None: the file is new
    new_text: str
    version: int | None = None  # the editor's version of an open document, checked by the client


@dataclass(frozen=True)
class EditSupport:
    """What the client's ``workspace.workspaceEdit`` capability allows."""

    document_changes: bool = False
    create_files: bool = False
    annotations: bool = False

    @classmethod
    def of(cls, capabilities: types.ClientCapabilities | None) -> EditSupport:
        workspace = capabilities.workspace if capabilities else None
        edit = workspace.workspace_edit if workspace else None
        if edit is None:
            return cls()
        create = types.ResourceOperationKind.Create in (edit.resource_operations or [])
        # Resource operations only exist inside documentChanges, so a client offering them handles those.
        document_changes = bool(edit.document_changes) or create
        return cls(document_changes, create, document_changes and edit.change_annotation_support is not None)


def text_edits(old: str, new: str, units: Units = utf16_units) -> list[types.TextEdit]:
    """Line-level edits turning ``old`` into ``new`` (non-overlapping, in document order)."""
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    starts = [0]
    for line in old_lines:
        starts.append(starts[-1] + len(line))
    edits = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        edits.append(
            types.TextEdit(
                range=types.Range(start=position_at(old, starts[i1], units), end=position_at(old, starts[i2], units)),
                new_text="".join(new_lines[j1:j2]),
            )
        )
    return edits


def apply_text_edits(text: str, edits: list[types.TextEdit], units: Units = utf16_units) -> str:
    """What a client does with ``edits`` (used by tests and by staging checks)."""
    from .text import offset_at

    spans = sorted(
        ((offset_at(text, e.range.start, units), offset_at(text, e.range.end, units), e.new_text) for e in edits),
        key=lambda s: (s[0], s[1]),
    )
    out, pos = [], 0
    for start, end, new_text in spans:
        out.append(text[pos:start])
        out.append(new_text)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def build_workspace_edit(
    changes: list[FileChange],
    support: EditSupport,
    units: Units = utf16_units,
    annotation: types.ChangeAnnotation | None = None,
) -> types.WorkspaceEdit:
    """One edit for all ``changes``; new files need ``support.create_files`` (the caller checks)."""
    annotate = annotation is not None and support.annotations
    if not support.document_changes:
        return types.WorkspaceEdit(
            changes={
                c.uri: text_edits(c.old_text or "", c.new_text, units) for c in changes if c.old_text != c.new_text
            }
        )
    document_changes: list = []
    for change in changes:
        if change.old_text == change.new_text:
            continue
        edits: Sequence[types.TextEdit | types.AnnotatedTextEdit] = text_edits(
            change.old_text or "", change.new_text, units
        )
        if change.old_text is None:
            document_changes.append(
                types.CreateFile(
                    uri=change.uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=ANNOTATION_ID if annotate else None,
                )
            )
        if annotate:
            edits = [
                types.AnnotatedTextEdit(range=e.range, new_text=e.new_text, annotation_id=ANNOTATION_ID) for e in edits
            ]
        version = change.version if change.old_text is not None else None
        document_changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=change.uri, version=version),
                edits=edits,
            )
        )
    return types.WorkspaceEdit(
        document_changes=document_changes,
        change_annotations={ANNOTATION_ID: annotation} if annotate and annotation else None,
    )
