"""Parsing Qwen's text tool calls (pure functions)."""

from __future__ import annotations

import json

from qwen_lsp.clients.tool_calls import arguments_as_objects, parse_tool_calls


def test_qwen25_json_tool_call_is_parsed_and_removed_from_content() -> None:
    text = 'Let me look.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "a.py"}}\n</tool_call>'
    content, calls = parse_tool_calls(text)
    assert content == "Let me look."
    assert [c.name for c in calls] == ["read_file"]
    assert json.loads(calls[0].arguments) == {"path": "a.py"}
    assert calls[0].id.startswith("call_")


def test_several_calls_keep_their_order_and_distinct_ids() -> None:
    text = (
        '<tool_call>{"name": "a", "arguments": {}}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": {"x": 1}}</tool_call>'
    )
    content, calls = parse_tool_calls(text)
    assert content == ""
    assert [c.name for c in calls] == ["a", "b"]
    assert json.loads(calls[1].arguments) == {"x": 1}
    assert calls[0].id != calls[1].id


def test_arguments_given_as_json_text_are_kept_verbatim() -> None:
    _, calls = parse_tool_calls('<tool_call>{"name": "f", "arguments": "{\\"k\\": 2}"}</tool_call>')
    assert json.loads(calls[0].arguments) == {"k": 2}


def test_malformed_call_comes_back_with_arguments_that_do_not_parse() -> None:
    _, calls = parse_tool_calls('<tool_call>{"name": "edit", "arguments": {"path": "a.py",}</tool_call>')
    assert calls[0].name == "edit"
    try:
        parsed = json.loads(calls[0].arguments)
    except ValueError:
        parsed = None
    assert not isinstance(parsed, dict) or "path" not in parsed


def test_unterminated_call_at_the_end_is_still_parsed() -> None:
    _, calls = parse_tool_calls('ok <tool_call>{"name": "run", "arguments": {"cmd": "ls"}}')
    assert calls[0].name == "run"
    assert json.loads(calls[0].arguments) == {"cmd": "ls"}


def test_qwen3_coder_xml_call_is_parsed() -> None:
    text = (
        "<tool_call>\n<function=write_file>\n<parameter=path>\nsrc/x.py\n</parameter>\n"
        "<parameter=line>\n12\n</parameter>\n<parameter=text>\ndef f():\n    return 1\n</parameter>\n"
        "</function>\n</tool_call>"
    )
    _, calls = parse_tool_calls(text)
    assert calls[0].name == "write_file"
    assert json.loads(calls[0].arguments) == {"path": "src/x.py", "line": 12, "text": "def f():\n    return 1"}


def test_text_without_calls_is_unchanged() -> None:
    assert parse_tool_calls("just prose") == ("just prose", [])


def test_untagged_call_json_counts_only_for_offered_tools() -> None:
    text = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    content, calls = parse_tool_calls(text, {"get_weather"})
    assert content == "" and calls[0].name == "get_weather"
    assert json.loads(calls[0].arguments) == {"city": "Paris"}
    assert parse_tool_calls(text) == (text, [])  # no tools offered: it is just text
    assert parse_tool_calls(text, {"other"}) == (text, [])


def test_untagged_calls_in_a_fence_and_a_broken_one() -> None:
    text = '```json\n{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {"x": [1,}}\n```'
    _, calls = parse_tool_calls(text, {"a", "b"})
    assert [c.name for c in calls] == ["a", "b"]
    assert json.loads(calls[0].arguments) == {}
    try:
        broken = json.loads(calls[1].arguments)
    except ValueError:
        broken = None
    assert not isinstance(broken, dict)


def test_prose_with_json_inside_is_not_a_call() -> None:
    text = 'Use this: {"name": "a", "arguments": {}} and then stop.'
    assert parse_tool_calls(text, {"a"}) == (text, [])


def test_earlier_tool_call_arguments_are_decoded_for_chat_templates() -> None:
    messages = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "1", "type": "function", "function": {"name": "a", "arguments": '{"x": 1}'}},
                {"id": "2", "type": "function", "function": {"name": "b", "arguments": "{broken"}},
            ],
        },
    ]
    decoded = arguments_as_objects(messages)
    assert decoded[0] == messages[0]
    assert decoded[1]["tool_calls"][0]["function"]["arguments"] == {"x": 1}
    assert decoded[1]["tool_calls"][1]["function"]["arguments"] == "{broken"
    assert messages[1]["tool_calls"][0]["function"]["arguments"] == '{"x": 1}'  # input untouched
