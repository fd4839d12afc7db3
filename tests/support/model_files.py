"""Helpers for tests that run real models: where the real Qwen2.5-Coder-0.5B GGUF is (assembled by CI from
PyPI-hosted parts), whether llama.cpp's CPU repacking survives on this machine, and a Qwen FIM prompt."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from local_extra import require_local_extra
from qwen_lsp.clients.base import Prompt, PromptPiece
from qwen_lsp.clients.local.cpu_probe import repack_is_safe
from qwen_lsp.clients.local.loader import read_gguf_info

require_local_extra()

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
    """Whether llama.cpp's default CPU weight repacking (AMX, ...) can run this quantised model here: the
    server's own once-per-machine check (``cpu_probe``), for tests that drive llama.cpp directly."""
    return repack_is_safe(model, read_gguf_info(model).file_type)


def fim_prompt(prefix: str, suffix: str = "") -> Prompt:
    """A Qwen prefix-suffix-middle prompt; the markers are control pieces, the code is user text."""
    return Prompt(
        (
            PromptPiece("<|fim_prefix|>", control=True),
            PromptPiece(prefix),
            PromptPiece("<|fim_suffix|>", control=True),
            PromptPiece(suffix),
            PromptPiece("<|fim_middle|>", control=True),
        )
    )
