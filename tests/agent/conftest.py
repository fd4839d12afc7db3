"""Fixtures shared by the agent's tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def outside() -> Iterator[Path]:
    """A folder outside the workspace that is visible (read-only) inside the sandbox, unlike /tmp."""
    base = Path("/var/tmp") if os.access("/var/tmp", os.W_OK) else None
    directory = Path(tempfile.mkdtemp(prefix="qwen-lsp-outside-", dir=base))
    (directory / "keep.txt").write_text("must survive\n")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)
