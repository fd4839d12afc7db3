"""The agent loop with a scripted backend: tool-call sequences (good and malformed), edit errors, repeats,
limits, cancellation, compaction, and a whole run with verification in a workspace copy."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from pathlib import Path

import pytest

from qwen_lsp.clients.base import ChatReply, ToolCall
from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.context.privacy import DEFAULT_SECRET_FILES
from qwen_lsp.server.agent.arguments import parse_arguments
from qwen_lsp.server.agent.loop import AgentLoop
from qwen_lsp.server.agent.paths import WorkspacePaths
from qwen_lsp.server.agent.run import AgentEnvironment, AgentRequest, run_agent
from qwen_lsp.server.agent.settings import AgentSettings
from qwen_lsp.server.agent.staging import StagedFiles, read_from_disk
from qwen_lsp.server.agent.tools import Toolbox
from qwen_lsp.server.documents import DocumentView

APP = "def total(values):\n    result = 0\n    for v in values:\n        result += v\n    return result\n"


def call(name: str, arguments: dict | str, call_id: str = "") -> ToolCall:
    raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return ToolCall(id=call_id, name=name, arguments=raw)


def reply(*calls: ToolCall, content: str = "") -> ChatReply:
    return ChatReply(content=content, tool_calls=list(calls), finish_reason="tool_calls" if calls else "stop")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text(APP)
    return root


def make_loop(workspace: Path, replies: list[ChatReply], cancel: threading.Event | None = None, **overrides):
    backend = ScriptedBackend(chat_replies=replies)
    settings = AgentSettings(**overrides)
    staged = StagedFiles(read_from_disk)
    toolbox = Toolbox(WorkspacePaths([workspace], DEFAULT_SECRET_FILES), staged, settings, None)
    loop = AgentLoop(
        backend, toolbox, settings, cancel or threading.Event(), context_tokens=overrides.pop("window", 32768)
    )
    return loop, backend, staged


def start() -> list[dict]:
    return [{"role": "system", "content": "rules"}, {"role": "user", "content": "Task: use sum()"}]


def tool_results(backend: ScriptedBackend) -> list[str]:
    return [m["content"] for m in backend.chat_requests[-1] if m["role"] == "tool"]


async def test_read_edit_finish(workspace: Path) -> None:
    new = "def total(values):\n    return sum(values)\n"
    loop, backend, staged = make_loop(
        workspace,
        [
            reply(call("read_file", {"path": "app.py"})),
            reply(call("edit_file", {"path": "app.py", "old_text": APP, "new_text": new})),
            reply(call("finish", {"summary": "Used sum()."})),
        ],
    )
    outcome = await loop.run(start())
    assert outcome.stop_reason == "finished" and outcome.summary == "Used sum()."
    assert [s.tool for s in outcome.steps] == ["read_file", "edit_file", "finish"] and all(s.ok for s in outcome.steps)
    assert staged.staged_texts() == {(workspace / "app.py").resolve(): new}
    assert (workspace / "app.py").read_text() == APP  # staged, never written
    read_result = backend.chat_requests[1][-1]
    assert read_result["role"] == "tool" and "2|     result = 0" in read_result["content"]
    assistant = backend.chat_requests[1][-2]
    assert assistant["tool_calls"][0]["function"]["name"] == "read_file"
    assert read_result["tool_call_id"] == assistant["tool_calls"][0]["id"] != ""


async def test_malformed_and_unknown_calls_are_fed_back_not_fatal(workspace: Path) -> None:
    loop, backend, _ = make_loop(
        workspace,
        [
            reply(call("read_file", '{"path": "app.py",')),  # broken JSON
            reply(call("delete_everything", {})),
            reply(call("read_file", {"lines": 3})),  # no path
            reply(call("", "{not even a name")),
            reply(call("finish", {"summary": "gave up"})),
        ],
    )
    outcome = await loop.run(start())
    assert outcome.stop_reason == "finished"
    errors = [s.result for s in outcome.steps[:4]]
    assert "not valid JSON" in errors[0]
    assert "unknown tool 'delete_everything'" in errors[1] and "edit_file" in errors[1]
    assert "bad arguments for read_file: path: Field required" in errors[2]
    assert "unknown tool ''" in errors[3]
    assert all(m["content"].startswith("Error:") for m in backend.chat_requests[4] if m["role"] == "tool")


async def test_edit_not_found_and_ambiguous_edits_explain_themselves(workspace: Path) -> None:
    (workspace / "twice.py").write_text("if a:\n    x = 1\nif b:\n        x = 1\n")
    loop, _backend, staged = make_loop(
        workspace,
        [
            reply(call("edit_file", {"path": "app.py", "old_text": "result", "new_text": "acc"})),
            reply(call("edit_file", {"path": "app.py", "old_text": "resutl = 0", "new_text": "acc = 0"})),
            reply(call("edit_file", {"path": "missing.py", "old_text": "a", "new_text": "b"})),
            reply(call("edit_file", {"path": "twice.py", "old_text": "  x = 1", "new_text": "x = 2"})),
            reply(call("edit_file", {"path": "twice.py", "old_text": "x  =  1", "new_text": "x = 2"})),
            reply(call("finish", {"summary": "no change"})),
        ],
    )
    outcome = await loop.run(start())
    results = [s.result for s in outcome.steps]
    assert "occurs 3 times" in results[0] and "lines 2, 4, 5" in results[0]
    assert "closest line is line 2" in results[1]
    assert "missing.py does not exist" in results[2]
    assert "occurs 2 times" in results[3] and "lines 2, 4" in results[3]
    assert "closest line is line 2" in results[4]
    assert staged.staged_texts() == {}


async def test_edit_matching_but_for_indentation_is_applied_reindented(workspace: Path) -> None:
    old = "result = 0\nfor v in values:\n    result += v"  # the model lost the function's indentation
    new = "result = 0\nfor v in values:\n    result += v * 1"
    loop, _backend, staged = make_loop(
        workspace,
        [reply(call("edit_file", {"path": "app.py", "old_text": old, "new_text": new})), reply(call("finish", {}))],
    )
    outcome = await loop.run(start())
    assert "matched ignoring indentation" in outcome.steps[0].result
    assert staged.staged_texts() == {(workspace / "app.py").resolve(): APP.replace("result += v", "result += v * 1")}


async def test_small_model_json_slips_are_repaired_but_truncation_is_not(workspace: Path) -> None:
    wrapped = (
        '{"name": "edit_file", "arguments": {"path": ".\\app.py", "old_text": "    return result", '
        '"new_text": """    return result  # "the" total"""}}'
    )
    loop, _backend, staged = make_loop(
        workspace,
        [
            reply(call("edit_file", wrapped)),
            reply(call("edit_file", '{"path": "app.py", "old_text": "result = 0", "new_text": "result = 1')),
            reply(call("finish", '{"summary": "line one\nline two"}')),  # a raw newline inside the string
        ],
    )
    outcome = await loop.run(start())
    assert outcome.stop_reason == "finished" and outcome.summary == "line one\nline two"
    assert outcome.steps[0].ok and not outcome.steps[1].ok and "not valid JSON" in outcome.steps[1].result
    assert staged.staged_texts() == {
        (workspace / "app.py").resolve(): APP.replace("    return result", '    return result  # "the" total')
    }


async def test_repeated_identical_calls_are_refused_then_stop_the_run(workspace: Path) -> None:
    same = call("read_file", {"path": "app.py"})
    loop, backend, _ = make_loop(workspace, [reply(same), reply(same), reply(same), reply(same)], repeat_limit=3)
    outcome = await loop.run(start())
    assert outcome.stop_reason == "loop" and "3 times" in outcome.summary
    assert outcome.model_calls == 3
    assert "already made this exact call" in tool_results(backend)[1]


async def test_reading_again_after_an_edit_is_not_a_repeat(workspace: Path) -> None:
    read = call("read_file", {"path": "app.py"})
    loop, _, _ = make_loop(
        workspace,
        [
            reply(read),
            reply(call("edit_file", {"path": "app.py", "old_text": "result = 0", "new_text": "result = 0  # sum"})),
            reply(read),
            reply(call("finish", {"summary": "ok"})),
        ],
        repeat_limit=2,
    )
    outcome = await loop.run(start())
    assert outcome.stop_reason == "finished" and "# sum" in outcome.steps[2].result


async def test_step_limit(workspace: Path) -> None:
    replies = [reply(call("search", {"query": f"q{i}"})) for i in range(10)]
    loop, backend, _ = make_loop(workspace, replies, max_steps=4)
    outcome = await loop.run(start())
    assert outcome.stop_reason == "step_limit" and outcome.model_calls == 4 and len(backend.chat_replies) == 6


async def test_answers_without_tool_calls_get_one_reminder(workspace: Path) -> None:
    loop, backend, _ = make_loop(workspace, [reply(content="I would use sum()."), reply(content="Use sum().")])
    outcome = await loop.run(start())
    assert outcome.stop_reason == "no_tool_calls" and outcome.summary == "Use sum()."
    assert backend.chat_requests[1][-1]["content"].startswith("You did not call a tool")


async def test_an_invented_tool_in_the_text_is_named_in_the_reminder(workspace: Path) -> None:
    invented = '```json\n{"name": "add_docstring", "arguments": {"mean": "Compute the mean."}}\n```'
    loop, backend, _ = make_loop(workspace, [reply(content=invented), reply(call("finish", {"summary": "ok"}))])
    outcome = await loop.run(start())
    assert outcome.stop_reason == "finished"
    reminder = backend.chat_requests[1][-1]["content"]
    assert reminder.startswith("There is no tool named 'add_docstring'; the tools are: list_files, read_file")


async def test_cancel_stops_between_and_during_model_calls(workspace: Path) -> None:
    cancel = threading.Event()
    replies = [reply(call("search", {"query": f"q{i}"})) for i in range(50)]
    loop, backend, _ = make_loop(workspace, replies, cancel)
    backend.delay_s = 0.05

    async def cancel_soon() -> None:
        await asyncio.sleep(0.2)
        cancel.set()

    canceller = asyncio.ensure_future(cancel_soon())
    outcome = await loop.run(start())
    await canceller
    assert outcome.stop_reason == "cancelled" and 1 <= outcome.model_calls < 50


async def test_wall_clock_limit(workspace: Path) -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 40.0  # every check of the clock is 40 s later
        return now[0]

    backend = ScriptedBackend(chat_replies=[reply(call("search", {"query": f"q{i}"})) for i in range(20)])
    settings = AgentSettings(max_seconds=100)
    toolbox = Toolbox(WorkspacePaths([workspace], DEFAULT_SECRET_FILES), StagedFiles(read_from_disk), settings, None)
    outcome = await AgentLoop(backend, toolbox, settings, threading.Event(), 32768, clock=clock).run(start())
    assert outcome.stop_reason == "time_limit" and outcome.model_calls == 2  # at 80 s and 120 s; 160 s is over


async def test_old_tool_results_are_compacted_when_the_window_fills(workspace: Path) -> None:
    (workspace / "big.py").write_text("".join(f"line_{i} = {i}\n" for i in range(400)))
    replies = [
        reply(call("read_file", {"path": "big.py", "start_line": 1 + 100 * i, "end_line": 100 + 100 * i}))
        for i in range(4)
    ] + [reply(call("finish", {"summary": "read it"}))]
    loop, backend, _ = make_loop(workspace, replies, context_tokens=3000, max_tokens_per_step=256)
    loop.budget = 1000  # tokens; the scripted backend counts 4 characters per token, a 100-line read is ~400
    outcome = await loop.run(start())
    assert outcome.stop_reason == "finished" and outcome.compacted >= 1
    last = [m["content"] for m in backend.chat_requests[-1] if m["role"] == "tool"]
    assert last[0].startswith("[compacted") and not last[-1].startswith("[compacted")


async def test_whole_run_with_verification_in_a_copy(workspace: Path) -> None:
    (workspace / "test_app.py").write_text(
        "from app import total\n\ndef test_total():\n    assert total([1, 2]) == 3\n"
    )
    good = "def total(values):\n    return sum(values)\n"
    backend = ScriptedBackend(
        chat_replies=[
            reply(call("edit_file", {"path": "app.py", "old_text": APP, "new_text": good})),
            reply(call("run_command", {"command": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]})),
            reply(call("create_file", {"path": "NOTES.md", "content": "uses sum\n"})),
            reply(call("finish", {"summary": "Simplified total()."})),
        ]
    )
    settings = AgentSettings(
        allowed_commands=[f"{sys.executable} -m pytest"],
        test_command=f"{sys.executable} -m pytest -q -p no:cacheprovider",
    )
    doc = DocumentView(
        uri=(workspace / "app.py").as_uri(),
        path=workspace / "app.py",
        rel_path="app.py",
        language_id="python",
        text=APP,
        version=7,
        root=workspace,
    )
    env = AgentEnvironment(
        backend=backend,
        settings=settings,
        roots=[workspace],
        document=doc,
        read_source=lambda p: (APP, 7) if p == workspace / "app.py" else read_from_disk(p),
    )
    steps: list[str] = []
    report = await run_agent(
        AgentRequest.parse({"instruction": "use sum", "scope": "file"}),
        env,
        threading.Event(),
        lambda step, message: steps.append(message),
    )
    assert report.outcome.stop_reason == "finished"
    assert report.outcome.steps[1].ok and "exit code 0" in report.outcome.steps[1].result
    assert "1 passed" in backend.chat_requests[2][-1]["content"]  # the command saw the staged edit
    assert report.verification is not None and report.verification.passed
    by_uri = {c.uri: c for c in report.changes}
    assert (
        by_uri[(workspace / "app.py").as_uri()].version == 7
        and by_uri[(workspace / "app.py").as_uri()].new_text == good
    )
    assert by_uri[(workspace / "NOTES.md").as_uri()].old_text is None
    assert {f["path"]: (f["created"], f["syntaxError"]) for f in report.files} == {
        "NOTES.md": (True, None),
        "app.py": (False, None),
    }
    assert steps[0].startswith("step 1/") and steps[-2:] == [
        f"verifying: {settings.test_command}",
        "verification: passed",
    ]
    assert "```python\n" + APP in backend.chat_requests[0][1]["content"]  # the file scope is in the task
    assert (workspace / "app.py").read_text() == APP and not (workspace / "NOTES.md").exists()


async def test_failing_verification_is_reported(workspace: Path) -> None:
    (workspace / "test_app.py").write_text(
        "from app import total\n\ndef test_total():\n    assert total([1, 2]) == 3\n"
    )
    bad = "def total(values):\n    return 0\n"
    backend = ScriptedBackend(
        chat_replies=[
            reply(call("edit_file", {"path": "app.py", "old_text": APP, "new_text": bad})),
            reply(call("finish", {"summary": "broke it"})),
        ]
    )
    settings = AgentSettings(test_command=f"{sys.executable} -m pytest -q -p no:cacheprovider")
    env = AgentEnvironment(backend=backend, settings=settings, roots=[workspace], read_source=read_from_disk)
    report = await run_agent(AgentRequest.parse({"instruction": "x", "scope": "workspace"}), env, threading.Event())
    assert report.verification is not None and not report.verification.passed
    assert report.verification.exit_code == 1 and "1 failed" in report.verification.output
    assert "app.py" in backend.chat_requests[0][1]["content"]  # the workspace listing


def test_bad_agent_arguments_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="scope"):
        AgentRequest.parse({"instruction": "x", "scope": "galaxy"})
    assert AgentRequest.parse({"textDocument": {"uri": "file:///a.py"}}).uri == "file:///a.py"


async def test_an_edit_that_breaks_the_syntax_is_flagged(workspace: Path) -> None:
    loop, _backend, staged = make_loop(
        workspace,
        [
            reply(call("edit_file", {"path": "app.py", "old_text": "def total(values):", "new_text": "Sums values."})),
            reply(call("finish", {"summary": "documented"})),
        ],
    )
    outcome = await loop.run(start())
    assert "Warning: app.py no longer parses (syntax error at line 1)" in outcome.steps[0].result
    assert staged.summary(str)[0]["syntaxError"] == "line 1"


@pytest.mark.parametrize(
    "raw, new_text",
    [
        # Qwen2.5-Coder-1.5B (real, greedy): a docstring's quotes left unescaped inside the JSON string.
        (
            '{"name": "edit_file", "arguments": {"path": "stats.py", "old_text": "def mean(values):", '
            '"new_text": "def mean(values):\\n    """Calculate the mean of a list of values."""\\n    total = 0"}}',
            'def mean(values):\n    """Calculate the mean of a list of values."""\n    total = 0',
        ),
        # Qwen2.5-Coder-0.5B (real): a Python triple-quoted string as the value, a Windows path.
        (
            '{"path": ".\\stats.py", "old_text": "a", "new_text": """\n    Calculate "the" mean.\n    """}',
            '    Calculate "the" mean.\n    ',
        ),
        ('{"path": "stats.py", "old_text": "a", "new_text": "print(\\"x\\", y)"}', 'print("x", y)'),  # valid JSON
    ],
)
def test_argument_repairs(raw: str, new_text: str) -> None:
    assert parse_arguments("edit_file", raw).new_text == new_text


async def test_new_text_repeating_the_lines_after_old_text_replaces_them(workspace: Path) -> None:
    # What Qwen2.5-Coder-1.5B does to add a docstring: old_text is the def line, new_text the whole function.
    new = 'def total(values):\n    """Sum the values."""\n' + APP.split("\n", 1)[1].rstrip("\n")
    loop, _, staged = make_loop(
        workspace,
        [
            reply(call("edit_file", {"path": "app.py", "old_text": "def total(values):", "new_text": new})),
            reply(
                call("edit_file", {"path": "app.py", "old_text": "result += v", "new_text": "result += v\n    x = 1"})
            ),
            reply(call("finish", {"summary": "ok"})),
        ],
    )
    await loop.run(start())
    expected = APP.replace("values):\n", 'values):\n    """Sum the values."""\n').replace("v\n", "v\n    x = 1\n", 1)
    assert staged.staged_texts() == {(workspace / "app.py").resolve(): expected}
