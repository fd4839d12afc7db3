"""The command that adds the local extra names the tool that installed qwen-lsp, so that it lands in the right venv."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from qwen_lsp.clients import factory


@pytest.mark.parametrize(
    ("marker", "expected"),
    [
        ("pipx_metadata.json", "pipx install --force '"),
        ("uv-receipt.toml", "uv tool install --reinstall '"),
        (None, "pip install '"),
    ],
)
def test_the_command_follows_the_tool_that_made_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, marker: str | None, expected: str
) -> None:
    if marker:
        (tmp_path / marker).write_text("{}")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    command = factory.local_extra_command()
    assert command.startswith(expected) and command.endswith("[local]'")


def test_an_environment_uv_installed_into_gets_uv_pip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Distribution:
        def read_text(self, name: str) -> str | None:
            return {"INSTALLER": "uv\n", "direct_url.json": json.dumps({"url": tmp_path.as_uri()})}.get(name)

    monkeypatch.setattr(factory.importlib.metadata, "distribution", lambda name: Distribution())
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    assert factory.local_extra_command() == f"uv pip install --python {sys.executable} '{tmp_path}[local]'"
