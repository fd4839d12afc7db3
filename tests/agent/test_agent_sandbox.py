"""Agent containment below the LSP layer: the workspace copy leads nowhere outside, command arguments cannot name
paths outside the workspace (every ``--opt=value``/``-o value`` form), a model's regex cannot stall the server, and
links leaving the workspace are skipped, not fatal."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qwen_lsp.context.privacy import DEFAULT_SECRET_FILES
from qwen_lsp.server.agent.commands import CommandRefused, check_arguments
from qwen_lsp.server.agent.isolation import sandbox_status
from qwen_lsp.server.agent.paths import WorkspacePaths
from qwen_lsp.server.agent.runner import CommandRunner
from qwen_lsp.server.agent.sandbox import LEFT_OUT_DIRS, WorkspaceCopy
from qwen_lsp.server.agent.settings import AgentSettings
from qwen_lsp.server.agent.staging import StagedFiles, read_from_disk
from qwen_lsp.server.agent.tools import Toolbox

PYTEST = [sys.executable, "-m", "pytest"]


def require_bubblewrap() -> None:
    """bubblewrap is part of the test setup (tests/run.sh installs it); a machine that forbids its namespaces is
    the only reason to skip."""
    if shutil.which("bwrap") is None:
        pytest.fail("bubblewrap is not installed; tests/run.sh installs it (apt-get install bubblewrap)")
    status = sandbox_status()
    if not status.active:
        pytest.skip(f"bubblewrap cannot run on this machine: {status.detail}")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "tests").mkdir(parents=True)
    (root / "app.py").write_text("def one():\n    return 1\n")
    (root / "tests" / "test_app.py").write_text("from app import one\n\n\ndef test_one():\n    assert one() == 1\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (root / "node_modules" / "lib").mkdir(parents=True)
    (root / "node_modules" / "lib" / "index.js").write_text("module.exports = 1\n")
    return root


def make_toolbox(root: Path, settings: AgentSettings) -> tuple[Toolbox, WorkspaceCopy]:
    paths = WorkspacePaths([root], DEFAULT_SECRET_FILES)
    copy = WorkspaceCopy(paths, root, 1000)
    runner = CommandRunner(copy, settings, {"PATH": os.environ["PATH"]})
    return Toolbox(paths, StagedFiles(read_from_disk), settings, runner), copy


def test_the_copy_has_no_link_leading_back(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "data.txt").write_text("outside\n")
    (workspace / "lib").mkdir()
    (workspace / "lib" / "util.py").write_text("X = 1\n")
    (workspace / "abs_link.py").symlink_to(workspace / "app.py")  # absolute, inside: must not point at the real file
    (workspace / "rel_link.py").symlink_to("app.py")
    (workspace / "lib_link").symlink_to(workspace / "lib", target_is_directory=True)
    (workspace / "out_link.txt").symlink_to(tmp_path / "elsewhere" / "data.txt")
    (workspace / "out_dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (workspace / "git_link").symlink_to(workspace / ".git", target_is_directory=True)
    copy = WorkspaceCopy(WorkspacePaths([workspace], DEFAULT_SECRET_FILES), workspace, 1000)
    try:
        base = copy.ensure()
        links = [p for p in base.rglob("*") if p.is_symlink()]
        assert sorted(p.name for p in links) == ["abs_link.py", "lib_link", "rel_link.py"]
        for link in links:  # each one stays inside the copy
            assert Path(os.path.realpath(link)).is_relative_to(base), link
        assert (base / "abs_link.py").read_text() == "def one():\n    return 1\n"
        assert not (base / ".git").exists() and not (base / "out_link.txt").exists()
        assert not (base / "out_dir").exists() and not (base / "git_link").exists()
    finally:
        copy.cleanup()


@pytest.mark.parametrize(
    "arguments",
    [
        ["--junitxml={out}/report.xml"],
        ["--junitxml", "{out}/report.xml"],
        ["--junitxml=.git/config"],
        ["--junit-xml=../report.xml"],
        ["--basetemp={out}"],
        ["--rootdir=/"],
        ["--rootdir", "{out}"],
        ["-o", "cache_dir={out}/cache"],
        ["-ocache_dir={out}/cache"],
        ["-c", "{out}/pytest.ini"],
        ["-c{out}/pytest.ini"],
        ["--cov-report=xml:{out}/coverage.xml"],
        ["-p", "evil_plugin"],
        ["-pevil_plugin"],
        ["~/report.xml"],
        ["@{out}/arguments.txt"],
    ],
)
def test_arguments_naming_paths_outside_are_refused(arguments: list[str], workspace: Path, outside: Path) -> None:
    argv = PYTEST + [a.format(out=outside) for a in arguments]
    with pytest.raises(CommandRefused):
        check_arguments(argv, workspace, LEFT_OUT_DIRS)


@pytest.mark.parametrize(
    "arguments",
    [
        ["-q", "-p", "no:cacheprovider", "-k", "not slow", "tests/test_app.py::test_one"],
        ["--junitxml=report.xml", "-o", "cache_dir=.cache_here", "-W", "ignore::DeprecationWarning"],
        ["--basetemp={ws}/tmp", "--rootdir={ws}", "-c", "/dev/null"],
    ],
)
def test_arguments_inside_the_workspace_are_allowed(arguments: list[str], workspace: Path) -> None:
    check_arguments(PYTEST + [a.format(ws=workspace) for a in arguments], workspace, LEFT_OUT_DIRS)


EVIL_PLUGIN = "import pathlib\npathlib.Path({marker!r}).write_text('plugin ran')\n"


@pytest.mark.parametrize(
    "arguments",
    [
        ["--junitxml={out}/report.xml"],
        ["--junitxml=.git/config"],
        ["--basetemp={out}"],
        ["--rootdir={out}", "tests"],
        ["-o", "cache_dir={out}/cache"],
        ["-c", "{out}/pytest.ini"],
        ["-p", "evil_plugin"],
    ],
)
async def test_option_escapes_write_nothing_outside(arguments: list[str], workspace: Path, outside: Path) -> None:
    """Without a sandbox (and the user allowing it), only the argument checks stand between pytest and the outside:
    each variant is refused and the outside folder and the real .git are untouched."""
    (outside / "pytest.ini").write_text(f"[pytest]\ncache_dir = {outside}/cache_from_ini\n")
    marker = outside / "plugin-ran"
    settings = AgentSettings(
        allowed_commands=[" ".join(PYTEST)], sandbox="off", allow_unsandboxed_commands=True, command_timeout_s=60
    )
    toolbox, copy = make_toolbox(workspace, settings)
    try:
        plugin = EVIL_PLUGIN.format(marker=str(marker))
        await toolbox.call("create_file", json.dumps({"path": "evil_plugin.py", "content": plugin}))
        command = PYTEST + ["-q"] + [a.format(out=outside) for a in arguments]
        result = await toolbox.call("run_command", json.dumps({"command": command}))
        assert not result.ok and ("is refused" in result.text or "is not allowed" in result.text), result.text
    finally:
        copy.cleanup()
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt", "pytest.ini"]
    assert (workspace / ".git" / "config").read_text() == "[core]\n\tbare = false\n"


async def test_plain_pytest_runs_in_the_sandbox_with_dependencies_read_only(workspace: Path) -> None:
    require_bubblewrap()
    (workspace / "tests" / "test_deps.py").write_text(
        "import pathlib\n\n\ndef test_node_modules_visible_read_only():\n"
        "    index = pathlib.Path('node_modules/lib/index.js')\n"
        "    assert index.read_text() == 'module.exports = 1\\n'\n"
        "    try:\n        index.write_text('changed')\n    except OSError:\n        return\n"
        "    raise AssertionError('node_modules is writable')\n"
    )
    settings = AgentSettings(allowed_commands=[" ".join(PYTEST)])
    toolbox, copy = make_toolbox(workspace, settings)
    try:
        result = await toolbox.call("run_command", json.dumps({"command": PYTEST + ["-q", "-p", "no:cacheprovider"]}))
        assert result.ok and "2 passed" in result.text, result.text
        assert result.text.startswith(f"$ {sys.executable} -m pytest")  # the model sees its own command
    finally:
        copy.cleanup()
    assert (workspace / "node_modules" / "lib" / "index.js").read_text() == "module.exports = 1\n"


@pytest.mark.slow
async def test_a_backtracking_regex_stops_at_the_time_limit(workspace: Path) -> None:
    (workspace / "data.txt").write_text("a" * 40 + "b\n")
    toolbox, _copy = make_toolbox(workspace, AgentSettings())
    result = await toolbox.call("search", json.dumps({"query": "(a|a)+$", "regex": True}))
    assert not result.ok and "took longer" in result.text
    quick = await toolbox.call("search", json.dumps({"query": "(a+)+$", "regex": True}))
    assert quick.ok and quick.text == "No matches for '(a+)+$'."


async def test_links_leading_outside_are_skipped_and_reported(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "notes.txt").write_text("one outside\n")
    (workspace / "notes_link.txt").symlink_to(tmp_path / "elsewhere" / "notes.txt")
    (workspace / "docs").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    toolbox, _ = make_toolbox(workspace, AgentSettings())
    found = await toolbox.call("search", json.dumps({"query": "one"}))
    assert found.ok and "app.py:1: def one():" in found.text and "outside" not in found.text.split("(skipped")[0]
    note = found.text.split("\n")[-1]
    assert note.startswith("(skipped 2 link(s) leading outside the workspace or to hidden files: ")
    assert "notes_link.txt" in note and "docs" in note
    listing = await toolbox.call("list_files", "{}")
    assert listing.text.split("\n")[:2] == ["app.py", "tests/test_app.py"] and "skipped 2 link(s)" in listing.text


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, "[ok  ] agent sandbox: bubblewrap"),
        ({"QWEN_LSP_AGENT__SANDBOX": "off"}, "[warn] agent sandbox: none (turned off (agent.sandbox)); the agent asks"),
        (
            {"QWEN_LSP_AGENT__SANDBOX": "off", "QWEN_LSP_AGENT__ALLOW_UNSANDBOXED_COMMANDS": "true"},
            "[warn] agent sandbox: none (turned off (agent.sandbox)); agent.allow_unsandboxed_commands is on",
        ),
    ],
)
def test_doctor_says_which_protection_is_active(overrides: dict[str, str], expected: str) -> None:
    if not overrides:
        require_bubblewrap()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env.update(overrides, QWEN_LSP_BACKEND__KIND="remote", QWEN_LSP_BACKEND__REMOTE__BASE_URL="http://127.0.0.1:9/v1")
    doctor = [str(Path(sys.executable).parent / "qwen-lsp"), "doctor"]
    out = subprocess.run(doctor, env=env, capture_output=True, text=True, timeout=120).stdout
    assert [line for line in out.splitlines() if line.startswith(expected)], out


async def test_the_timeout_kills_everything_inside_the_sandbox(workspace: Path) -> None:
    require_bubblewrap()
    marker = f"qwen-lsp-sleeper-{os.getpid()}"
    (workspace / "conftest.py").write_text(
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)', {marker!r}])\n"
        "print('started', flush=True)\ntime.sleep(120)\n"
    )
    settings = AgentSettings(allowed_commands=[" ".join(PYTEST)], command_timeout_s=3)
    toolbox, copy = make_toolbox(workspace, settings)
    started = time.monotonic()
    try:
        result = await toolbox.call("run_command", json.dumps({"command": PYTEST + ["-s"]}))
    finally:
        copy.cleanup()
    assert not result.ok and "timed out (killed)" in result.text
    assert time.monotonic() - started < 60  # not held until the 120 s sleeps end
    for _ in range(50):  # the sandbox's PID namespace goes with it
        left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True).stdout.split()
        if not left:
            break
        await asyncio.sleep(0.1)
    assert left == []
