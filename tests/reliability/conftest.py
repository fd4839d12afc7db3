"""The raw-stdio scripted server that the document-sync and framing properties share per module."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from raw_lsp import RawServer, scripted_env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RawServer]:
    tmp: Path = tmp_path_factory.mktemp("raw")
    raw = RawServer(scripted_env(tmp), stderr_path=tmp / "stderr.log")
    raw.initialize()
    yield raw
    raw.close()
