"""Tool-call arguments as models write them: validated, with the usual small-model slips repaired.

Small models name arguments loosely (``file`` for ``path``), wrap a call inside its own arguments
(``{"name": "edit_file", "arguments": {...}}``), write Python's triple-quoted strings or Windows paths with
lone backslashes inside JSON. Those are repaired before validation. Truncated or otherwise broken JSON is
never guessed at: the model gets the parse error back and tries again.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

_TRIPLE_QUOTED_VALUE = re.compile(r'(:\s*)"""(.*?)"""', re.DOTALL)  # "key": """...""" (a Python string as the value)
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)  # a backslash and what follows it, pairwise left to right


def _path_field(default: Any = ...) -> Any:
    return Field(default, validation_alias=AliasChoices("path", "file", "file_path", "filename", "filepath"))


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ListArgs(_Args):
    path: str = _path_field(".")
    pattern: str | None = Field(None, validation_alias=AliasChoices("pattern", "glob"))


class ReadArgs(_Args):
    path: str = _path_field()
    start_line: int = Field(1, ge=1, validation_alias=AliasChoices("start_line", "start", "from_line"))
    end_line: int | None = Field(None, ge=1, validation_alias=AliasChoices("end_line", "end", "to_line"))


class SearchArgs(_Args):
    query: str = Field(..., min_length=1, validation_alias=AliasChoices("query", "text", "pattern", "symbol"))
    path: str = _path_field(".")
    regex: bool = False


class EditArgs(_Args):
    path: str = _path_field()
    old_text: str = Field(..., validation_alias=AliasChoices("old_text", "old", "old_string", "search", "find"))
    new_text: str = Field(..., validation_alias=AliasChoices("new_text", "new", "new_string", "replace", "replacement"))


class CreateArgs(_Args):
    path: str = _path_field()
    content: str = Field(..., validation_alias=AliasChoices("content", "text", "contents", "code"))


class RunArgs(_Args):
    command: list[str] | str = Field(..., validation_alias=AliasChoices("command", "cmd", "args", "argv"))


class FinishArgs(_Args):
    summary: str = Field("", validation_alias=AliasChoices("summary", "message", "result"))


ARGUMENTS: dict[str, type[_Args]] = {
    "list_files": ListArgs,
    "read_file": ReadArgs,
    "search": SearchArgs,
    "edit_file": EditArgs,
    "create_file": CreateArgs,
    "run_command": RunArgs,
    "finish": FinishArgs,
}


def repair_json(raw: str) -> str:
    """Python triple-quoted values become JSON strings, quotes inside strings (a docstring in code) are escaped,
    and a backslash that starts no JSON escape is doubled."""
    text = _TRIPLE_QUOTED_VALUE.sub(lambda m: m.group(1) + json.dumps(m.group(2).strip("\n")), raw)
    text = _ESCAPE.sub(lambda m: m.group(0) if m.group(1) and m.group(1) in '"\\/bfnrtu' else "\\" + m.group(0), text)
    return escape_inner_quotes(text)


def escape_inner_quotes(text: str) -> str:
    """Escape each quote inside a string that cannot be its end: a closing quote is followed (after spaces) by
    ``,`` ``}`` ``]`` ``:`` or the end of the text."""
    out, in_string, i = [], False, 0
    while i < len(text):
        char = text[i]
        if in_string and char == "\\":
            out.append(text[i : i + 2])
            i += 2
            continue
        if char == '"':
            if not in_string:
                in_string = True
            else:
                rest = text[i + 1 :].lstrip()
                if not rest or rest[0] in ",}]:":
                    in_string = False
                else:
                    char = '\\"'
        out.append(char)
        i += 1
    return "".join(out)


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as error:
        try:
            return json.loads(repair_json(raw), strict=False)  # strict=False also accepts raw newlines in strings
        except ValueError:
            raise error from None  # the model sees what was wrong with what it wrote


def parse_arguments(name: str, raw: str) -> _Args:
    """The validated arguments of a call, or ValueError with a message for the model."""
    if name not in ARGUMENTS:
        raise ValueError(f"unknown tool {name!r}; the tools are: {', '.join(ARGUMENTS)}")
    try:
        data = _decode(raw) if raw.strip() else {}
    except ValueError as error:
        raise ValueError(f"the arguments of {name} are not valid JSON ({error}); send one JSON object") from None
    if isinstance(data, dict) and data.get("name") == name and isinstance(data.get("arguments"), dict):
        data = data["arguments"]  # the call wrapped in its own arguments
    if not isinstance(data, dict):
        raise ValueError(f"the arguments of {name} must be a JSON object, got {type(data).__name__}")
    try:
        return ARGUMENTS[name].model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, p['loc'])) or 'arguments'}: {p['msg']}" for p in error.errors())
        raise ValueError(f"bad arguments for {name}: {problems}") from None
