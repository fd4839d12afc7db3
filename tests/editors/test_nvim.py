"""The Neovim plugin in real headless Neovim: 0.12 (built-in vim.lsp.inline_completion) and 0.11 (the plugin's own
extmark ghost text), against the real qwen-lsp server over stdio.

Ghost text, accept and the context/health/refactor commands run with the real Qwen2.5-Coder-0.5B GGUF; the
partial-accept keymaps run with the scripted backend, whose fixed replies make the expected buffer exact.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from conftest import REPO, nvim_binary
from nvim_session import NvimSession, nvim_session, wait_for

pytestmark = pytest.mark.editor

GHOST_NS = {"0.12": "nvim.lsp.inline_completion", "0.11": "qwen_lsp.ghost"}
PATHS = [pytest.param("0.12", id="nvim0.12-builtin"), pytest.param("0.11", id="nvim0.11-extmarks")]
TYPED = "    return"


def sent(log: str, method: str) -> list[str]:
    """Lines of Neovim's LSP log for messages it sent with this method."""
    return [line for line in log.splitlines() if '"rpc.send"' in line and f'method = "{method}"' in line]


def type_return_statement(s: NvimSession, path: Path) -> list[str]:
    """Open the file, add `    return` as the last line and type a space after it in insert mode."""
    s.edit(path)
    s.wait_for_server()
    s.nvim.current.buffer.append(TYPED)
    s.nvim.command("normal! G")
    before = s.lines()
    s.nvim.input("A ")
    return before


@pytest.fixture
def start(fixture_repo: Path, tmp_path: Path, server_command: list[str]):
    """Start Neovim of a version with the plugin set up; yields a function (version, env, extra opts) -> session."""
    sessions = []

    def _start(version: str, env: dict[str, str], **opts) -> NvimSession:
        cm = nvim_session(
            nvim_binary(version),
            fixture_repo,
            {"cmd": opts.pop("cmd", server_command), "env": env, **opts},
            tmp_path,
            GHOST_NS[version],
        )
        sessions.append(cm)
        return cm.__enter__()

    yield _start
    for cm in reversed(sessions):
        cm.__exit__(None, None, None)


@pytest.mark.real_model
@pytest.mark.parametrize("version", PATHS)
def test_ghost_text_from_real_model_is_accepted_with_tab(version, start, fixture_repo, model_env):
    s = start(version, model_env)
    before = type_return_statement(s, fixture_repo / "shapes" / "geometry.py")
    status = s.wait_until_ready()
    assert status.get("model"), status

    ghost = s.wait_for_ghost()
    assert ghost["row"] == len(before) - 1
    s.nvim.input("<Tab>")
    expected = before[:-1] + (TYPED + " " + ghost["text"]).split("\n")
    wait_for(lambda: s.lines() == expected, 10, f"buffer == {expected!r} (is {s.lines()!r})")
    assert not s.ghost(), "ghost text still shown after accepting"
    assert s.nvim.api.get_mode()["mode"] == "i"

    log = s.lsp_log()
    assert sent(log, "qwen/didShowCompletion"), "shown completion not reported"
    accepts = [line for line in sent(log, "workspace/executeCommand") if "qwen.acceptCompletion" in line]
    assert accepts, "accepted completion not reported (qwen.acceptCompletion)"


@pytest.fixture
def scripted(tmp_path: Path):
    """Server command and environment for the scripted backend (fixed replies)."""
    script = REPO / "tests" / "support" / "scripted_server.py"
    if not script.is_file():
        pytest.skip("tests/support/scripted_server.py is missing")

    def _make(replies: list[str], default: str = "") -> tuple[list[str], dict[str, str]]:
        env = {"QWEN_LSP_TEST_SCRIPT": json.dumps({"replies": replies, "default_reply": default})}
        return [sys.executable, str(script)], env

    return _make


@pytest.mark.parametrize("version", PATHS)
def test_accept_word_then_line(version, start, fixture_repo, scripted):
    # After a partial accept the built-in client asks again (second reply); the plugin's ghost text keeps the rest.
    cmd, env = scripted(["width * height  # w*h", " * height  # w*h"], default="")
    s = start(version, env, cmd=cmd)
    before = type_return_statement(s, fixture_repo / "shapes" / "geometry.py")
    assert s.wait_for_ghost(timeout=30)["text"] == "width * height  # w*h"

    s.nvim.input("<M-Right>")
    wait_for(lambda: s.lines()[-1] == TYPED + " width", 10, f"one word accepted (is {s.lines()[-1]!r})")
    wait_for(lambda: any(m["text"] == " * height  # w*h" for m in s.ghost()), 30, "the rest as ghost text")
    s.nvim.input("<M-C-Right>")
    wait_for(lambda: s.lines()[-1] == TYPED + " width * height  # w*h", 10, f"line accepted (is {s.lines()[-1]!r})")
    assert s.lines()[:-1] == before[:-1]

    log = s.lsp_log()
    partial = sent(log, "qwen/didPartiallyAcceptCompletion")
    assert partial and "acceptedLength = 5" in partial[0], partial
    assert sent(log, "qwen/didFocus"), "the focused buffer was not reported"


@pytest.mark.parametrize("version", PATHS)
def test_dismiss_hides_ghost_text_and_tab_inserts_a_tab(version, start, fixture_repo, scripted):
    cmd, env = scripted([], default="width * height")
    s = start(version, env, cmd=cmd)
    type_return_statement(s, fixture_repo / "shapes" / "geometry.py")
    s.wait_for_ghost(timeout=30)
    s.nvim.input("<C-]>")
    wait_for(lambda: not s.ghost(), 10, "the ghost text to go away")
    s.nvim.command("setlocal noexpandtab softtabstop=0")
    s.nvim.input("<Tab>")
    wait_for(lambda: s.lines()[-1] == TYPED + " \t", 10, f"a literal tab (is {s.lines()[-1]!r})")


@pytest.mark.real_model
def test_context_command_shows_the_prompt(start, fixture_repo, model_env):
    s = start("0.12", model_env)
    s.edit(fixture_repo / "shapes" / "geometry.py")
    s.wait_for_server()
    s.wait_until_ready()
    s.nvim.command("normal! G$")
    s.nvim.command("QwenContext")
    text = wait_for(
        lambda: "\n".join(s.lines()) if "----- prompt -----" in s.lines() else None, 60, "the context buffer"
    )
    assert "rectangle_area" in text.split("----- prompt -----", 1)[1]
    assert re.search(r"prompt_tokens = \d+", text), text[:500]


def test_checkhealth_reports_server_and_doctor(start, fixture_repo, server_command):
    s = start("0.12", {})
    s.nvim.command("checkhealth qwen_lsp")
    text = "\n".join(s.lines())
    assert "server command: " + server_command[0] in text, text
    assert "`qwen-lsp doctor` exited with" in text, text


def open_ready(s: NvimSession, path: Path) -> list[str]:
    s.edit(path)
    s.wait_for_server()
    s.wait_until_ready()
    return s.lines()


def changed_only_in(before: list[str], after: list[str], first: int) -> None:
    """The edit touched lines from `first` (1-based) on; the lines above are unchanged."""
    assert after != before, "no edit"
    assert after[: first - 1] == before[: first - 1], "lines above the range changed"


@pytest.mark.real_model
def test_refactor_with_qwen_code_action_is_applied(start, fixture_repo, model_env):
    s = start("0.12", model_env)
    before = open_ready(s, fixture_repo / "shapes" / "report.py")
    s.lua(
        """
        _G.offered = {}
        vim.lsp.buf.code_action({
          range = { start = { 4, 0 }, ['end'] = { 6, 0 } },
          filter = function(action) table.insert(_G.offered, action.title); return action.title:match('^Refactor with Qwen') ~= nil end,
          apply = true,
        })
        """
    )
    after = wait_for(lambda: s.lines() if s.lines() != before else None, 300, "the code action's edit")
    titles = s.lua("return _G.offered")
    assert any(t.startswith("Refactor with Qwen") for t in titles), titles
    changed_only_in(before, after, 4)


@pytest.mark.real_model
def test_refactor_command_edits_the_range(start, fixture_repo, model_env):
    s = start("0.12", model_env)
    before = open_ready(s, fixture_repo / "shapes" / "report.py")
    s.nvim.command("4,6QwenRefactor rename the variable total to combined")
    after = wait_for(lambda: s.lines() if s.lines() != before else None, 300, "the refactor edit")
    changed_only_in(before, after, 4)
    assert "combined" in "\n".join(after), after


AGENT_EDIT = {
    "path": "shapes/geometry.py",
    "old_text": '    """Return the area of a rectangle."""\n',
    "new_text": '    """Return the area of a rectangle."""\n    return width * height\n',
}


@pytest.fixture
def scripted_agent():
    """Server command + env whose agent edits geometry.py (one edit_file call, then finish)."""
    chat = [
        [{"name": "edit_file", "arguments": AGENT_EDIT}],
        [{"name": "finish", "arguments": {"summary": "Added the return."}}],
    ]
    env = {"QWEN_LSP_TEST_SCRIPT": json.dumps({"chat": chat})}
    return [sys.executable, str(REPO / "tests" / "editors" / "scripted_agent_server.py")], env


def agent_review_or_report(s: NvimSession):
    if s.prompting():
        return "review"
    messages = s.nvim.api.exec2("messages", {"output": True})["output"]
    return "report" if "Qwen agent:" in messages else None


@pytest.mark.parametrize("answer, applied", [("a", True), ("d", False)], ids=["apply", "discard"])
def test_agent_edit_is_reviewed_as_a_diff(answer, applied, start, fixture_repo, scripted_agent):
    cmd, env = scripted_agent
    s = start("0.12", env, cmd=cmd)
    s.attach_ui()
    path = fixture_repo / "shapes" / "geometry.py"
    s.edit(path)
    s.wait_for_server()
    before = s.lines()
    s.nvim.command("QwenAgent add the return statement to rectangle_area")
    assert wait_for(lambda: agent_review_or_report(s), 60, "the agent's diff review") == "review"
    s.nvim.input(answer)  # the confirm prompt: &Apply / &Discard
    wait_for(lambda: not s.prompting(), 10, "the prompt to close")
    review = s.lua("return require('qwen_lsp.review').last")
    assert review["applied"] is applied
    assert review["diff"].startswith("--- a/shapes/geometry.py\n+++ b/shapes/geometry.py\n@@"), review["diff"]
    assert "+    return width * height" in review["diff"].splitlines()
    wait_for(lambda: agent_review_or_report(s) == "report", 30, "the agent's report")
    messages = s.nvim.api.exec2("messages", {"output": True})["output"]
    assert s.lua("return vim.bo.filetype") == "python", "the review tab is still open"
    if applied:
        assert s.lines() == before + ["    return width * height"]
        assert "Qwen agent: applied." in messages, messages
    else:
        assert s.lines() == before
        assert "Qwen agent: not applied" in messages, messages
