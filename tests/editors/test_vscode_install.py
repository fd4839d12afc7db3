"""The VS Code extension installs its own server: real VS Code (code-server) with a fresh profile and no `qwen-lsp`
on PATH offers the install; the test accepts "Remote endpoint only", gives the endpoint (a real OpenAI-compatible
server on 127.0.0.1), the extension installs the server from the wheel it carries (build.sh builds it from this
checkout and packs it into the .vsix; qwen-lsp is not on PyPI) into its global
storage (python -m venv + pip, progress notification), starts it, and ghost text appears; the status menu shows the
installed version; Update reinstalls and restarts it, Uninstall removes it."""

from __future__ import annotations

import pytest
from code_server import code_server, run_driver
from conftest import code_server_binary
from test_vscode import FILE, TYPED

from llama_server import API_KEY, KEY_ENV
from tiny_gguf import write_tiny_qwen_gguf

pytestmark = [pytest.mark.editor, pytest.mark.timeout(1500)]


def test_install_offer_remote_endpoint_only_then_ghost_text(
    tmp_path, fixture_repo, vsix, endpoint, path_without_server, artifacts
):
    env = {"PATH": path_without_server, KEY_ENV: API_KEY}
    settings = {  # no qwenLsp.install.source: the default is the wheel packed into the extension
        "qwenLsp.backend.remote.api_key_env": KEY_ENV,
        "qwenLsp.completion.debounce_ms": 0,
        "qwenLsp.completion.max_tokens_single_line": 8,
    }
    with code_server(code_server_binary(), fixture_repo, vsix, tmp_path, env, settings) as url:
        result = run_driver(
            {
                "url": url,
                "folder": str(fixture_repo),
                "file": FILE,
                "mode": "ghost",
                "typed": TYPED,
                "install": {"choice": "Remote endpoint only", "baseUrl": endpoint.base_url, "timeoutMs": 900000},
                "statusMenu": True,
                "timeoutMs": 120000,
                "afterCommands": [
                    {"command": "Qwen: Update server", "restart": True},
                    {"command": "Qwen: Uninstall server", "dialogButton": "Uninstall", "notification": "uninstalled"},
                ],
                "failShot": str(artifacts / "vscode-install-failure.png"),
            },
            timeout=1200,
        )
    assert "error" not in result, (result.get("error"), result.get("progress"), result.get("notifications"))
    assert "not installed" in result["offer"] and "10–15 minutes" in result["offer"], result["offer"]
    assert result["baseUrlPrefill"] == "http://127.0.0.1:8000/v1"  # the setting's default, replaced by the test
    progress = "\n".join(result["progress"])
    assert "Creating the environment" in progress and "Installing qwen-lsp (remote endpoint only)" in progress, progress
    assert result["ghost"].strip()
    saved = (fixture_repo / FILE).read_text()
    assert saved.startswith(result["before"] + TYPED) and saved != result["before"] + TYPED

    # The output channel logs the steps and pip's output: a remote-only install has no llama-cpp-python.
    logs = "\n".join(p.read_text() for p in (tmp_path / "code-server" / "user-data").rglob("*Qwen LSP.log"))
    installed = [line for line in logs.splitlines() if "Successfully installed" in line]
    assert "[install] Creating the environment" in logs and installed, logs[-3000:]
    assert "/server/qwen_lsp-0.1.0-py3-none-any.whl" in logs, logs[-3000:]  # pip's "Processing …" line
    assert not any("llama" in line or "gguf" in line for line in installed), installed
    user_settings = (tmp_path / "code-server" / "user-data" / "User" / "settings.json").read_text()
    assert endpoint.base_url in user_settings and '"qwenLsp.backend.kind": "remote"' in user_settings, user_settings
    menu = result["statusMenu"]
    assert "(installed by the extension, remote endpoint only)" in menu["title"], menu
    assert any("Update server" in i for i in menu["items"]) and any("Uninstall server" in i for i in menu["items"]), (
        menu
    )
    # Qwen: Update server reinstalls (progress shown) and restarts the server; Uninstall removes the environment.
    assert any("Updating qwen-lsp (remote endpoint only)" in t for t in result["after"]), result["after"]
    assert not list((tmp_path / "code-server" / "user-data").glob("User/globalStorage/*/server/venv"))


def test_install_offer_local_model_with_a_warm_wheel_cache_then_ghost_text(
    tmp_path, fixture_repo, vsix, wheel, warm_llama_wheel, path_without_server, artifacts
):
    """ "Local model" installs qwen-lsp[local] (llama-cpp-python from the prebuilt wheel instead of compiling) and the
    server completes from a tiny GGUF in-process."""
    model = write_tiny_qwen_gguf(tmp_path / "tiny.gguf")
    settings = {
        "qwenLsp.install.source": str(wheel),
        "qwenLsp.backend.local.model": str(model),
        "qwenLsp.backend.local.n_threads": 1,
        "qwenLsp.backend.local.n_ctx": 2048,
        "qwenLsp.backend.local.repack": False,
        "qwenLsp.completion.debounce_ms": 0,
        "qwenLsp.completion.max_tokens_single_line": 8,
        # the tiny model answers at once: a speculative next suggestion would replace the accepted one before the
        # driver sees the ghost text go (this test is about the install, not about speculation)
        "qwenLsp.completion.speculate": False,
    }
    with code_server(
        code_server_binary(), fixture_repo, vsix, tmp_path, {"PATH": path_without_server}, settings
    ) as url:
        result = run_driver(
            {
                "url": url,
                "folder": str(fixture_repo),
                "file": FILE,
                "mode": "ghost",
                "typed": TYPED,
                "install": {"choice": "Local model", "timeoutMs": 900000},
                "statusMenu": True,
                "timeoutMs": 120000,
                "failShot": str(artifacts / "vscode-install-local-failure.png"),
            },
            timeout=1200,
        )
    assert "error" not in result, (result.get("error"), result.get("progress"), result.get("notifications"))
    progress = "\n".join(result["progress"])
    assert "Installing qwen-lsp with the local model (compiling llama-cpp-python, usually 10–15 minutes)" in progress
    assert result["ghost"].strip()
    logs = "\n".join(p.read_text() for p in (tmp_path / "code-server" / "user-data").rglob("*Qwen LSP.log"))
    installed = [line for line in logs.splitlines() if "Successfully installed" in line]
    assert any("llama_cpp_python-0.3.36" in line or "llama-cpp-python-0.3.36" in line for line in installed), installed
    assert "(installed by the extension, local model)" in result["statusMenu"]["title"], result["statusMenu"]
