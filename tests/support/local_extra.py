"""Helpers that need the ``local`` extra call ``require_local_extra()`` when imported: without llama-cpp-python or
gguf (a remote-only install) the tests using them are skipped, saying why, instead of failing to import."""

from __future__ import annotations

import pytest


def require_local_extra() -> None:
    for module in ("llama_cpp", "gguf"):
        pytest.importorskip(module, reason=f"needs the local extra ({module}): pip install '.[local]'")
