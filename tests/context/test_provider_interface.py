"""Every context provider implements the whole ``ContextProvider`` interface: the server tells any provider of
folder and file events, asks it for the agent's symbol lookup and stops it at shutdown, through the interface only."""

from __future__ import annotations

from pathlib import Path

import pytest

from interface_check import interface_problems, protocol_members
from qwen_lsp.context.base import ContextProvider, NoContext, SymbolDefinition
from qwen_lsp.context.repository import RepositoryContext


@pytest.mark.parametrize("provider", [NoContext, RepositoryContext], ids=lambda cls: cls.__name__)
def test_every_provider_has_every_member_of_the_interface(provider: type) -> None:
    problems = interface_problems(provider, ContextProvider)
    assert not problems, f"{provider.__name__}: {problems}"


def test_the_interface_says_what_the_server_uses() -> None:
    wanted = {"add_folder", "remove_folder", "files_changed", "find_definitions", "stop"}
    assert wanted <= protocol_members(ContextProvider)


def test_a_provider_without_folders_ignores_folder_events(tmp_path: Path) -> None:
    provider = NoContext()
    provider.add_folder(tmp_path)
    provider.files_changed([tmp_path / "a.py"])
    provider.remove_folder(tmp_path)
    provider.stop()
    assert provider.find_definitions("anything") == []


def test_the_repository_engine_finds_definitions_by_name(engine: RepositoryContext, repo: Path) -> None:
    engine.start([repo])
    found = engine.find_definitions("compute_total")
    assert found and all(isinstance(d, SymbolDefinition) for d in found)
    assert found[0].name == "compute_total" and found[0].key.endswith(".py") and found[0].line >= 0
