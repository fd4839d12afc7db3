"""Fixtures for the editor-side install tests: a wheel built from this checkout (the package source the editors
install from), a real OpenAI-compatible endpoint on 127.0.0.1 (llama_cpp.server with a tiny GGUF) and a PATH on
which no `qwen-lsp` is found, so the editors must install their own."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from remote_only_install import LOCAL_MODULES, build_wheel, importable

pytest.importorskip("llama_cpp.server", reason="the OpenAI-compatible test server is llama_cpp.server")
from llama_server import API_KEY, KEY_ENV, Server, start_llama_server  # noqa: E402
from tiny_gguf import write_tiny_qwen_gguf  # noqa: E402

__all__ = ["API_KEY", "KEY_ENV", "LOCAL_MODULES", "endpoint", "importable", "path_without_server", "wheel"]


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

