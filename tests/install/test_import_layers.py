"""Imports run one way. Built from the source with ``ast`` (every import counts: at module level, inside a function,
or only for type checkers), the graph of server/, context/ and clients/ has no cycle: LSP features depend on the
``Host`` protocol (server/host.py), not on app.py, which imports them to register them. And context/ and clients/
import nothing from server/ or from each other: they meet only in the server, through their interfaces."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {"server": "qwen_lsp.server", "context": "qwen_lsp.context", "clients": "qwen_lsp.clients"}


def modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package's __init__)."""
    found = {}
    for folder, package in MAPPING.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            found[".".join([package, *(parts[:-1] if is_package else parts)])] = (path, is_package)
    return found


def imported_names(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {}
    for module, (path, is_package) in known.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in imported_names(module, is_package, node):
                while name not in known and "." in name:  # ``from pkg.mod import function`` -> pkg.mod
                    name = name.rsplit(".", 1)[0]
                if name in known and name != module and not module.startswith(name + "."):
                    targets.add(name)  # a package's own __init__ runs first anyway: not an edge back
        graph[module] = targets
    return graph


def test_the_graph_sees_the_imports() -> None:
    graph = import_graph()
    assert "qwen_lsp.server.host" in graph["qwen_lsp.server.features.lifecycle"]
    assert "qwen_lsp.server.features.lifecycle" in graph["qwen_lsp.server.app"]  # the import inside create_server
    assert "qwen_lsp.clients.base" in graph["qwen_lsp.server.session"]


def test_no_import_cycle() -> None:
    try:
        tuple(graphlib.TopologicalSorter(import_graph()).static_order())
    except graphlib.CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


@pytest.mark.parametrize("layer", ["qwen_lsp.context", "qwen_lsp.clients"])
def test_context_and_clients_import_nothing_from_the_server_or_each_other(layer: str) -> None:
    graph = import_graph()
    wrong = {
        f"{module} -> {target}"
        for module, targets in graph.items()
        if module.startswith(layer + ".")
        for target in targets
        if not target.startswith(layer + ".")
    }
    assert not wrong


def test_the_language_server_is_a_whole_host() -> None:
    """Features are typed against ``Host``; the server they are registered on has every member of it."""
    from interface_check import interface_problems
    from qwen_lsp.server.app import QwenLanguageServer
    from qwen_lsp.server.host import Host

    assert not interface_problems(QwenLanguageServer, Host)
