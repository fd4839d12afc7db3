"""Where tests find the real Qwen2.5-Coder-0.5B GGUF (assembled by CI from PyPI-hosted parts)."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest

QWEN_05B_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def real_qwen_05b() -> Path | None:
    dirs = [os.environ.get("QWEN_LSP_MODELS_DIR", ""), str(Path.home() / ".cache" / "qwen-lsp" / "models")]
    for directory in filter(None, dirs):
        candidate = Path(directory) / QWEN_05B_FILE
        if candidate.is_file():
            return candidate
    return None


def require_real_qwen_05b() -> Path:
    path = real_qwen_05b()
    if path is None:
        pytest.skip(
            f"{QWEN_05B_FILE} not found in $QWEN_LSP_MODELS_DIR or ~/.cache/qwen-lsp/models "
            "(`qwen-lsp model pull qwen2.5-coder-0.5b`, or assemble it as MODELS.md describes)"
        )
    return path


@functools.cache
def repack_survives(model: Path) -> bool:
    """Whether llama.cpp's default CPU weight repacking (AMX, ...) can run this quantised model here.

    Some virtual machines advertise AMX but trap its instructions ("Illegal instruction" kills the process),
    so this is tried once in a child process; tests then set ``repack=False`` where it does not survive.
    """
    probe = (
        "import sys; from llama_cpp import Llama; "
        "llm = Llama(sys.argv[1], n_ctx=128, n_threads=1, verbose=False); "
        "llm.create_completion('def f():', max_tokens=1)"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(model)], capture_output=True, timeout=300)
    return result.returncode == 0
