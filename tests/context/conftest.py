"""Fixtures: the sample repository and a context engine with a private cache folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from context_repo import write_repo

from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[RepositoryContext]:
    # a generous time budget: these tests are about what is found, not how fast (that is bench/bench_context.py)
    ctx = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    yield ctx
    ctx.stop()
