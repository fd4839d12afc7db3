"""Real VS Code (code-server from npm) for the editor tests: installs the extension's .vsix into a fresh profile,
serves a workspace on 127.0.0.1, and runs the playwright-core driver (vscode_driver.mjs) in headless Chromium.

Nothing is written to the home directory: config, user data and extensions live in the test's tmp dir.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ports import free_port

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "vscode_driver.mjs"
EXTENSION_ID = "qwen-lsp.qwen-lsp"

SETTINGS = {
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": False,
    "workbench.enableExperiments": False,
    "telemetry.telemetryLevel": "off",
    "security.workspace.trust.enabled": False,
    "extensions.autoCheckUpdates": False,
    "extensions.autoUpdate": False,
    "update.mode": "none",
    "chat.disableAIFeatures": True,
    "files.autoSave": "off",
    "editor.inlineSuggest.enabled": True,
    # The server also offers textDocument/completion; keep the suggest widget from taking Tab.
    "editor.quickSuggestions": {"other": "off", "comments": "off", "strings": "off"},
    "editor.suggestOnTriggerCharacters": False,
    "editor.acceptSuggestionOnEnter": "off",
}


def build_vsix(repo: Path) -> Path:
    """Build the extension with its one build script; returns the .vsix path."""
    out = subprocess.run(
        ["bash", str(repo / "editors" / "vscode" / "build.sh")], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


@contextmanager
def code_server(
    binary: Path, workspace: Path, vsix: Path, tmp: Path, env: dict[str, str], settings: dict
) -> Iterator[str]:
    """Serve `workspace` with the extension installed; yields the base URL."""
    root = tmp / "code-server"
    user_data, extensions = root / "user-data", root / "extensions"
    (user_data / "User").mkdir(parents=True, exist_ok=True)
    extensions.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = root / "config.yaml"
    config.write_text(f"bind-addr: 127.0.0.1:{port}\nauth: none\ncert: false\n")
    (user_data / "User" / "settings.json").write_text(json.dumps({**SETTINGS, **settings}, indent=2))
    common = ["--config", str(config), "--user-data-dir", str(user_data), "--extensions-dir", str(extensions)]
    proc_env = {**os.environ, **env}
    subprocess.run(
        [str(binary), *common, "--install-extension", str(vsix)],
        check=True,
        capture_output=True,
        env=proc_env,
        timeout=120,
    )
    log = (root / "code-server.log").open("w")
    proc = subprocess.Popen(
        [
            str(binary),
            *common,
            "--disable-telemetry",
            "--disable-update-check",
            "--disable-workspace-trust",
            "--enable-proposed-api",
            EXTENSION_ID,
            str(workspace),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=proc_env,
        # Own process group: the extension host and the language server are killed with it.
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2):
                    break
            except OSError as error:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = (root / "code-server.log").read_text()
                    raise RuntimeError(f"code-server did not start; log: {log}") from error
                time.sleep(0.3)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


def run_driver(params: dict, timeout: float = 600) -> dict:
    """Run the playwright-core driver; returns its JSON result (its last stdout line)."""
    out = subprocess.run(
        ["node", str(DRIVER), json.dumps(params)], capture_output=True, text=True, timeout=timeout, cwd=HERE
    )
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        raise AssertionError(f"driver failed ({out.returncode}):\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}")
    return json.loads(lines[-1])
