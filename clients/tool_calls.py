"""Tool calls written as text by Qwen models, turned into ``ToolCall`` records.

Qwen2.5 writes ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``; Qwen3-Coder writes
``<tool_call><function=NAME><parameter=KEY>VALUE</parameter>...</function></tool_call>``. Both are parsed here.
Small models sometimes leave out the tags and answer with the JSON alone; that is accepted when it names a
tool that was offered. A call that cannot be understood is still returned, with its raw text as ``arguments``
(which then fails to parse as a JSON object), so the agent loop can show the model its mistake instead of
silently dropping it.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from collections.abc import Collection
from typing import Any

from .base import ToolCall

_BLOCK = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_XML_FUNCTION = re.compile(r"<function=([^>\s]+)>(.*?)(?:</function>|\Z)", re.DOTALL)
_XML_PARAMETER = re.compile(r"<parameter=([^>\s]+)>(.*?)(?:</parameter>|(?=<parameter=)|\Z)", re.DOTALL)
_NAME_HINT = re.compile(r'"name"\s*:\s*"([^"]+)"')
_FENCE = re.compile(r"^```[a-z]*\s*|\s*```$")


def _new_id() -> str:
    return f"call_{uuid.uuid4().hex[:16]}"


def _xml_value(raw: str) -> object:
    """A parameter value: JSON when it is JSON (numbers, lists, objects), else the text itself."""
    text = raw.strip("\n")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _parse_block(inner: str) -> ToolCall:
    body = inner.strip()
    function = _XML_FUNCTION.search(body)
    if function:
        params = {m.group(1): _xml_value(m.group(2)) for m in _XML_PARAMETER.finditer(function.group(2))}
        return ToolCall(id=_new_id(), name=function.group(1), arguments=json.dumps(params, ensure_ascii=False))
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        hint = _NAME_HINT.search(body)
        # Raw text as arguments: it does not parse as a JSON object, so the caller reports the error back.
        return ToolCall(id=_new_id(), name=hint.group(1) if hint else "", arguments=body)
    arguments = data.get("arguments", data.get("parameters", {}))
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(id=_new_id(), name=data["name"], arguments=arguments)


def _bare_calls(text: str, tool_names: Collection[str]) -> list[ToolCall]:
    """Small Qwen models often answer with the call's JSON alone, without the tags: accept that when the
    whole reply is such objects naming known tools (a broken one naming a known tool is still a call)."""
    body = _FENCE.sub("", text).strip()
    if not body.startswith("{"):
        return []
    decoder, pos, calls = json.JSONDecoder(), 0, []
    while pos < len(body):
        try:
            obj, end = decoder.raw_decode(body, pos)
        except ValueError:
            hint = _NAME_HINT.match(body[pos:].lstrip("{ \n"))
            if hint and hint.group(1) in tool_names:
                calls.append(_parse_block(body[pos:]))
                return calls
            return []
        if not (isinstance(obj, dict) and obj.get("name") in tool_names):
            return []
        calls.append(_parse_block(body[pos:end]))
        pos = end
        while pos < len(body) and body[pos] in " \t\r\n,":
            pos += 1
    return calls


def tool_names(tools: list[dict[str, Any]] | None) -> set[str]:
    """The function names in an OpenAI-style ``tools`` list."""
    return {t.get("function", {}).get("name", "") for t in tools or []} - {""}


def parse_tool_calls(text: str, tool_names: Collection[str] = ()) -> tuple[str, list[ToolCall]]:
    """Split an assistant message into its prose (tool-call blocks removed) and the tool calls in order.

    An unterminated final ``<tool_call>`` (generation hit max_tokens) is still parsed from what is there.
    With ``tool_names``, a reply that is nothing but untagged call JSON naming those tools also counts.
    """
    calls = [_parse_block(m.group(1)) for m in _BLOCK.finditer(text)]
    if calls:
        return _BLOCK.sub("", text).strip(), calls
    calls = _bare_calls(text, tool_names) if tool_names else []
    return ("", calls) if calls else (text, [])


def arguments_as_objects(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages with each earlier tool call's arguments decoded from JSON text (the OpenAI wire format) to an
    object, which is what chat templates iterate over. Arguments that do not parse stay text."""
    out = []
    for message in messages:
        if message.get("tool_calls"):
            message = {**message, "tool_calls": [_decoded(call) for call in message["tool_calls"]]}
        out.append(message)
    return out


def _decoded(call: dict[str, Any]) -> dict[str, Any]:
    fn = call.get("function") or {}
    if isinstance(fn.get("arguments"), str):
        with contextlib.suppress(ValueError):
            fn = {**fn, "arguments": json.loads(fn["arguments"])}
    return {**call, "function": fn}
