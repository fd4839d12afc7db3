"""Fixtures shared by more than one test folder (the helpers they use live in tests/support/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from fake_hub import FakeHub
from qwen_lsp.clients.models import files as models
from qwen_lsp.clients.models.files import ModelPreset


@pytest.fixture
def models_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "models"
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(home))
    return home


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch):
    def add(preset: ModelPreset) -> ModelPreset:
        monkeypatch.setitem(models.PRESETS, preset.name, preset)
        return preset

    return add


@pytest.fixture
def fake_hub() -> Iterator[Callable[..., FakeHub]]:
    started: list[FakeHub] = []

    def start(
        files: dict[str, bytes], claimed_sha: dict[str, str] | None = None, bytes_per_s: int | None = None
    ) -> FakeHub:
        started.append(FakeHub(files, claimed_sha, bytes_per_s))
        return started[-1]

    yield start
    for hub in started:
        hub.close()
