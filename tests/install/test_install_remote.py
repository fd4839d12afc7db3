"""The wheel built from this checkout, installed without the ``local`` extra into a fresh venv (no
llama-cpp-python, no gguf), runs without the source tree: the language server over stdio completes against a real
OpenAI-compatible server (``llama_cpp.server`` with a tiny GGUF on 127.0.0.1) whichever way its settings arrive,
``qwen-lsp demo`` completes its bundled sample, and ``qwen-lsp doctor`` says what is not installed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_helpers import first_text, inline_completion, open_document, running_server, server_env
from remote_only_install import LOCAL_MODULES, build_wheel, importable, remote_only_venv

pytest.importorskip("llama_cpp.server", reason="the OpenAI-compatible test server is llama_cpp.server")
from llama_server import API_KEY, KEY_ENV, Server, start_llama_server
from tiny_gguf import write_tiny_qwen_gguf

URI = "file:///work/demo/app.py"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # builds a venv and a wheel


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def venv(wheel: Path) -> Path:
    venv = remote_only_venv(wheel)
    assert not any(importable(venv, module) for module in LOCAL_MODULES), "the venv must not have the local extra"
    return venv


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("endpoint")
    yield from start_llama_server(write_tiny_qwen_gguf(folder / "tiny.gguf"), folder / "server.log")


def remote_section(base_url: str) -> dict:
    """The ``qwenLsp`` settings as an editor sends them (camelCase)."""
    return {
        "backend": {"kind": "remote", "remote": {"baseUrl": base_url, "apiKeyEnv": KEY_ENV, "maxRetries": 0}},
        "completion": {"debounceMs": 0, "maxTokensSingleLine": 8},
    }


def remote_env_vars(base_url: str) -> dict[str, str]:
    return {
        "QWEN_LSP_BACKEND__KIND": "remote",
        "QWEN_LSP_BACKEND__REMOTE__BASE_URL": base_url,
        "QWEN_LSP_BACKEND__REMOTE__API_KEY_ENV": KEY_ENV,
        "QWEN_LSP_BACKEND__REMOTE__MAX_RETRIES": "0",
        "QWEN_LSP_COMPLETION__DEBOUNCE_MS": "0",
        "QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE": "8",
    }


@pytest.mark.parametrize("route", ["environment", "initializationOptions", "workspace/configuration"])
async def test_server_without_the_local_extra_completes_from_a_remote_endpoint(
    venv: Path, endpoint: Server, tmp_path: Path, route: str
) -> None:
    env = server_env(
        tmp_path, **{KEY_ENV: API_KEY}, **(remote_env_vars(endpoint.base_url) if route == "environment" else {})
    )
    options = remote_section(endpoint.base_url) if route == "initializationOptions" else None

    def configure(client) -> None:
        if route == "workspace/configuration":
            client.set_configuration(remote_section(endpoint.base_url), section="qwenLsp")

    command = [str(venv / "bin" / "qwen-lsp")]
    async with running_server(command, env, initialization_options=options, configure=configure) as client:
        await open_document(client, URI, "total = \n")
        assert first_text(await inline_completion(client, URI, 0, 8))  # the tiny model always writes text
        assert [m.message for m in client.messages if m.type == types.MessageType.Error] == []


def run_cli(venv: Path, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = server_env(tmp_path, **env)
    return subprocess.run(
        [str(venv / "bin" / "qwen-lsp"), *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )


def test_demo_completes_the_bundled_sample_from_a_remote_endpoint(venv: Path, endpoint: Server, tmp_path: Path) -> None:
    done = run_cli(venv, tmp_path, "demo", **remote_env_vars(endpoint.base_url), **{KEY_ENV: API_KEY})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and "order_total()" in done.stderr and "total_request" in done.stderr


def test_demo_without_the_local_extra_says_what_to_install(venv: Path, wheel: Path, tmp_path: Path) -> None:
    done = run_cli(venv, tmp_path, "demo", QWEN_LSP_MODELS_DIR=str(tmp_path / "models"))
    assert done.returncode == 1 and done.stdout == ""
    # qwen-lsp is not on PyPI: the command names the wheel (or folder) this install came from
    assert f"pip install '{wheel}[local]'" in done.stderr and 'backend.kind to "remote"' in done.stderr


def test_doctor_says_the_local_extra_is_not_installed(
    venv: Path, wheel: Path, endpoint: Server, tmp_path: Path
) -> None:
    remote = run_cli(venv, tmp_path, "doctor", **remote_env_vars(endpoint.base_url))
    assert (
        "[ok  ] local extra: not installed (llama-cpp-python, gguf missing); only local models need it" in remote.stdout
    )
    assert remote.returncode == 0, remote.stdout
    local = run_cli(venv, tmp_path, "doctor", QWEN_LSP_MODELS_DIR=str(tmp_path / "models"))
    assert "[FAIL] local extra: not installed" in local.stdout and local.returncode == 1
    assert f"pip install '{wheel}[local]'" in local.stdout
    assert os.path.commonpath([str(venv), _installed_package(venv)]) == str(venv)


def _installed_package(venv: Path) -> str:
    probe = "import qwen_lsp.server, os; print(os.path.dirname(qwen_lsp.server.__file__))"
    return subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True).stdout.strip()
