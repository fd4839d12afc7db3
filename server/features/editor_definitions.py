"""``qwen/editorDefinitions``: the definitions the editor's own language server reports for the symbols around the
cursor, passed on to the context engine as one more source (locations only: the engine reads the text itself).

``{textDocument: {uri}, version?, position: {line, character}, definitions: [{name, uri, range}]}``. The latest set
per open document replaces the one before; an empty list forgets it; closing the document drops it. Anything that
does not fit (wrong types, a document that is not open, a stale version, too long a list) is ignored with one log
line: this is a hint, and a completion never depends on it.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError, field_validator

from qwen_lsp.context.base import EditorDefinition
from qwen_lsp.context.uris import uri_to_key

from ..host import Host
from ..protocol.params import plain

log = logging.getLogger(__name__)
EDITOR_DEFINITIONS = "qwen/editorDefinitions"
MAX_LOCATIONS = 64  # a longer list is not "the symbols at the cursor": the whole notification is ignored
MAX_URI_CHARS = 4096
MAX_NAME_CHARS = 256


class _Position(BaseModel):
    line: StrictInt = Field(ge=0)
    character: StrictInt = Field(ge=0)


class _Range(BaseModel):
    start: _Position
    end: _Position | None = None


class _Document(BaseModel):
    uri: StrictStr = Field(max_length=MAX_URI_CHARS)


class _Location(BaseModel):
    name: StrictStr = Field("", max_length=MAX_NAME_CHARS)
    uri: StrictStr = Field(min_length=1, max_length=MAX_URI_CHARS)
    range: _Range

    @field_validator("uri")
    @classmethod
    def _readable_uri(cls, uri: str) -> str:
        uri_to_key(uri)  # raises ValueError for what is no URI (``http://[x``)
        return uri


class EditorDefinitionsParams(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text_document: _Document = Field(alias="textDocument")
    version: StrictInt | None = None
    position: _Position
    definitions: list[_Location] = Field(max_length=MAX_LOCATIONS)


def register(server: Host) -> None:
    @server.feature(EDITOR_DEFINITIONS)
    def editor_definitions(ls: Host, params: Any) -> None:
        try:
            parsed = EditorDefinitionsParams.model_validate(plain(params, MAX_LOCATIONS + 1))
        except ValidationError as error:
            log.warning("ignored %s: %s", EDITOR_DEFINITIONS, _first_error(error))
            return
        uri = parsed.text_document.uri
        document = ls.workspace.text_documents.get(uri)
        if document is None:
            log.warning("ignored %s: %.200s is not an open document", EDITOR_DEFINITIONS, uri)
            return
        if parsed.version is not None and document.version is not None and parsed.version < document.version:
            return  # asked before the latest edit reached us: a newer set follows
        locations = [
            EditorDefinition(d.name, d.uri, d.range.start.line, d.range.start.character) for d in parsed.definitions
        ]
        ls.session.context_provider.editor_definitions(uri, parsed.position.line, locations)


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}"[:300] + (
        f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    )
