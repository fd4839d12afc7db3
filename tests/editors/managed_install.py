"""Fixtures for the editor-side install tests: a wheel built from this checkout (the package source the editors
install from), a real OpenAI-compatible endpoint on 127.0.0.1 (llama_cpp.server with a tiny GGUF) and a PATH on
which no `qwen-lsp` is found, so the editors must install their own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from remote_only_install import LOCAL_MODULES, build_wheel, importable

pytest.importorskip("llama_cpp.server", reason="the OpenAI-compatible test server is llama_cpp.server")
from llama_server import API_KEY, KEY_ENV, Server, start_llama_server  # noqa: E402
from tiny_gguf import write_tiny_qwen_gguf  # noqa: E402

# fmt: off
__all__ = [
    "API_KEY", "KEY_ENV", "LOCAL_MODULES", "endpoint", "importable", "path_without_server", "warm_llama_wheel", "wheel",
    "write_tiny_qwen_gguf",
]
# fmt: on


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
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
