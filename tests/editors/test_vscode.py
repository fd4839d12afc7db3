"""The VS Code extension in real VS Code (code-server 4.100.3 = VS Code 1.100.3) in headless Chromium.

The .vsix comes from the extension's build script and is installed into a fresh profile; the test types into the
editor like a user, waits for ghost text, accepts it with Tab, saves, and asserts on the file on disk.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from code_server import code_server, run_driver
from conftest import REPO, code_server_binary

pytestmark = pytest.mark.editor

FILE = "shapes/geometry.py"
TYPED = "    return "


def drive(tmp_path: Path, repo: Path, vsix: Path, env: dict, settings: dict, **params) -> dict:
    with code_server(code_server_binary(), repo, vsix, tmp_path, env, settings) as url:
        return run_driver({"url": url, "folder": str(repo), "file": FILE, **params})


REPORT = "shapes/report.py"


def stats_events(data_dir: Path) -> list[str]:
    """Events the server recorded in its local acceptance statistics (offered / shown / accepted / partial)."""
    path = data_dir / "stats.jsonl"
    return [json.loads(line)["event"] for line in path.read_text().splitlines()] if path.exists() else []


def test_ghost_text_accepted_with_tab_scripted(tmp_path, fixture_repo, vsix):
    """Extension plumbing with the scripted backend: its fixed reply makes the saved file exact."""
    script = REPO / "tests" / "support" / "scripted_server.py"
    if not script.is_file():
        pytest.skip("tests/support/scripted_server.py is missing")
    data_dir = tmp_path / "data"
    env = {"QWEN_LSP_TEST_SCRIPT": json.dumps({"default_reply": "width * height"}), "QWEN_LSP_DATA_DIR": str(data_dir)}
    settings = {"qwenLsp.serverCommand": sys.executable, "qwenLsp.serverArgs": [str(script)]}
    result = drive(tmp_path, fixture_repo, vsix, env, settings, mode="ghost", typed=TYPED, timeoutMs=60000)
    assert "error" not in result, (result.get("error"), result.get("notifications"), result.get("actions"))
    assert result["ghost"] == "width * height"
    assert (fixture_repo / FILE).read_text() == result["before"] + TYPED + "width * height"
    # Shown (VS Code's handleDidShowCompletionItem hook) and accepted (qwen.acceptCompletion) reached the server.
    events = stats_events(data_dir)
    assert "shown" in events and "accepted" in events, events


@pytest.mark.real_model
def test_ghost_text_from_real_model_accepted_with_tab(
    tmp_path, fixture_repo, vsix, model_env, server_command, artifacts
):
    shot = artifacts / "vscode-ghost-text.png"
    shot.unlink(missing_ok=True)
    settings = {"qwenLsp.serverCommand": server_command[0]}
    env = {**model_env, "QWEN_LSP_DATA_DIR": str(tmp_path / "data")}
    result = drive(tmp_path, fixture_repo, vsix, env, settings, mode="ghost", typed=TYPED, screenshot=str(shot))
    assert "error" not in result, (result.get("error"), result.get("notifications"), result.get("actions"))
    ghost = result["ghost"]
    assert ghost.strip(), result
    assert shot.is_file() and shot.stat().st_size > 10_000
    saved = (fixture_repo / FILE).read_text()
    prefix = result["before"] + TYPED
    assert saved.startswith(prefix), saved
    inserted = saved[len(prefix) :]
    # The DOM shows the ghost text line by line: the first line must be exactly what was inserted first.
    assert inserted.split("\n")[0] == ghost.split("\n")[0], (inserted, ghost)
    if "\n" not in ghost:
        assert inserted == ghost
    events = stats_events(tmp_path / "data")
    assert "shown" in events and "accepted" in events, events


@pytest.mark.real_model
def test_refactor_with_qwen_code_action(tmp_path, fixture_repo, vsix, model_env, server_command):
    settings = {"qwenLsp.serverCommand": server_command[0], "qwenLsp.trace.server": "messages"}
    result = drive(
        tmp_path,
        fixture_repo,
        vsix,
        model_env,
        settings,
        mode="codeaction",
        file=REPORT,
        select=[4, 6],
        actionTitle="Refactor with Qwen",
        instruction="add a comment above the return line",
        failShot=str(tmp_path / "failure.png"),
    )
    if result.get("soft"):
        pytest.skip(f"the server offers no 'Refactor with Qwen' code action yet (actions: {result.get('actions')})")
    assert "error" not in result, (result.get("error"), result.get("notifications"), result.get("actions"))
    saved = (fixture_repo / REPORT).read_text()
    assert saved != result["before"]
    assert saved.splitlines()[:3] == result["before"].splitlines()[:3], "lines outside the selection changed"


AGENT_EDIT = {
    "path": "shapes/geometry.py",
    "old_text": '    """Return the area of a rectangle."""\n',
    "new_text": '    """Return the area of a rectangle."""\n    return width * height\n',
}


def test_agent_refactor_goes_through_the_refactor_preview(tmp_path, fixture_repo, vsix, artifacts):
    """Agent refactor… with a scripted agent (fixed tool calls): VS Code shows the edit in the Refactor Preview,
    nothing changes before Apply, and Apply writes exactly the agent's edit."""
    chat = [
        [{"name": "edit_file", "arguments": AGENT_EDIT}],
        [{"name": "finish", "arguments": {"summary": "Added it."}}],
    ]
    env = {"QWEN_LSP_TEST_SCRIPT": json.dumps({"chat": chat})}
    script = REPO / "tests" / "editors" / "scripted_agent_server.py"
    settings = {"qwenLsp.serverCommand": sys.executable, "qwenLsp.serverArgs": [str(script)]}
    result = drive(
        tmp_path,
        fixture_repo,
        vsix,
        env,
        settings,
        mode="agent",
        instruction="add the return statement",
        timeoutMs=60000,
        screenshot=str(artifacts / "vscode-refactor-preview.png"),
        failShot=str(artifacts / "vscode-agent-failure.png"),
    )
    assert "error" not in result, (result.get("error"), result.get("notifications"))
    assert result["previewShown"] and not result["dirtyBeforeApply"]
    assert (fixture_repo / FILE).read_text() == result["before"] + "    return width * height\n"


def test_show_completion_context_opens_a_read_only_json_document(tmp_path, fixture_repo, vsix):
    script = REPO / "tests" / "support" / "scripted_server.py"
    if not script.is_file():
        pytest.skip("tests/support/scripted_server.py is missing")
    settings = {"qwenLsp.serverCommand": sys.executable, "qwenLsp.serverArgs": [str(script)]}
    result = drive(
        tmp_path,
        fixture_repo,
        vsix,
        {},
        settings,
        mode="command",
        command="Qwen: Show completion context",
        tabText=".json",
        expect='"prompt"',
        timeoutMs=60000,
    )
    assert "error" not in result, (result.get("error"), result.get("notifications"))
    assert any(tab.startswith("geometry.py-11-1-") for tab in result["tabs"]), result["tabs"]
    assert '"prompt_tokens"' in result["text"] or '"prompt"' in result["text"]
    assert (fixture_repo / FILE).read_text() == result["before"], "showing the context changed the file"
