"""``qwen.inspectContext`` over stdio on small multi-file repositories: the cross-file definition used at the
cursor is in the snippets and in the exact prompt, and the server uses its copy of the document, not the disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_helpers import (
    indexing_done,
    insert_text,
    open_document,
    running_server,
    script_env,
    scripted_server_command,
    wait_for,
)

REPOS = {
    "python": {
        "files": {
            "shop/pricing.py": 'TAX_RATE = 0.2\n\n\ndef price_with_tax(amount: float) -> float:\n    """Gross price."""\n    return amount * (1 + TAX_RATE)\n',
            "shop/cart.py": "from shop.pricing import price_with_tax\n\n\ndef total(items):\n    return sum(price_with_tax(i) for i in items)\n",
        },
        "open": "shop/cart.py",
        "cursor": (4, 4),
        "definition": "def price_with_tax",
        "language": "python",
    },
    "typescript": {
        "files": {
            "src/geometry.ts": "export interface Point { x: number; y: number }\n\nexport function distance(a: Point, b: Point): number {\n  return Math.hypot(a.x - b.x, a.y - b.y);\n}\n",
            "src/main.ts": "import { distance, Point } from './geometry';\n\nconst origin: Point = { x: 0, y: 0 };\nconst d = distance(origin, \n",
        },
        "open": "src/main.ts",
        "cursor": (3, 27),
        "definition": "export function distance",
        "language": "typescript",
    },
    "go": {
        "files": {
            "go.mod": "module example.com/shop\n\ngo 1.22\n",
            "money/money.go": "package money\n\n// Add returns the sum of two amounts in cents.\nfunc Add(a, b int64) int64 {\n\treturn a + b\n}\n",
            "main.go": 'package main\n\nimport "example.com/shop/money"\n\nfunc main() {\n\ttotal := money.Add(1, \n}\n',
        },
        "open": "main.go",
        "cursor": (5, 22),
        "definition": "func Add",
        "language": "go",
    },
}


def write_repo(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


async def inspect(client, uri: str, line: int, character: int) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="qwen.inspectContext",
            arguments=[{"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}],
        )
    )


async def wait_for_snippet(client, uri, line, character, needle, attempts=200) -> dict:
    result: dict = {}
    for _ in range(attempts):  # indexing runs in the background after initialized
        result = await inspect(client, uri, line, character)
        if needle in result.get("prompt", ""):
            return result
        await asyncio.sleep(0.1)
    return result


@pytest.mark.parametrize("name", sorted(REPOS))
async def test_cross_file_definition_is_in_the_context(tmp_path, name):
    repo = REPOS[name]
    root = tmp_path / "repo"
    write_repo(root, repo["files"])
    env = script_env(tmp_path, default_reply="")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "cache")
    uri = (root / repo["open"]).as_uri()
    async with running_server(scripted_server_command(), env, root=root) as client:
        await open_document(client, uri, repo["files"][repo["open"]], language_id=repo["language"])
        line, character = repo["cursor"]
        result = await wait_for_snippet(client, uri, line, character, repo["definition"])
        assert repo["definition"] in result["prompt"], result
        definition_file = next(p for p, t in repo["files"].items() if repo["definition"] in t)
        snippet = next(s for s in result["snippets"] if s["path"] == definition_file)
        assert snippet["uri"] == (root / definition_file).as_uri()
        assert snippet["source"] and snippet["tokens"] > 0 and "start" in snippet["range"]
        assert result["prompt_tokens"] > 0 and result["budget"] > 0
        assert set(result["timings_ms"]) >= {"context"}
        # Qwen's repository-level form: the other file under its path, then the current file.
        assert f"<|file_sep|>{definition_file}\n" in result["prompt"]
        assert result["prompt"].index(f"<|file_sep|>{repo['open']}\n") > result["prompt"].index(definition_file)


async def test_inspect_uses_the_servers_copy_of_the_document(tmp_path):
    root = tmp_path / "repo"
    write_repo(root, {"app.py": "x = 1\n"})
    env = script_env(tmp_path, default_reply="")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "cache")
    uri = (root / "app.py").as_uri()
    async with running_server(scripted_server_command(), env, root=root) as client:
        await open_document(client, uri, "x = 1\n")
        insert_text(client, uri, 2, 1, 0, "unsaved_name = 2\n")
        result = await inspect(client, uri, 2, 0)
        assert "unsaved_name = 2" in result["prompt"]
        assert "unsaved_name" not in (root / "app.py").read_text()
        bad = await inspect(client, "file:///nowhere.py", 0, 0)
        assert "error" in bad


async def test_a_qualified_calls_callee_ranks_first(tmp_path):
    """``cart.add(`` where ``cart = shop.Cart()`` and ``Cart`` is re-exported by the package: the method of that
    class is the best definition snippet, not the same-named method of another class."""
    files = {
        "shop/__init__.py": "from .core import Cart as Cart\n",
        "shop/core.py": 'class Cart:\n    def add(self, price: float) -> None:\n        """Add an item."""\n'
        "        self.total = price\n",
        "shop/_a.py": "class Shelf:\n    def add(self, item: str, count: int) -> None:\n        pass\n",
        "app.py": "import shop\n\n\ndef fill(prices):\n    cart = shop.Cart()\n    cart.add(\n",
    }
    root = tmp_path / "repo"
    write_repo(root, files)
    env = script_env(tmp_path, default_reply="")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "cache")
    uri = (root / "app.py").as_uri()
    async with running_server(scripted_server_command(), env, root=root) as client:
        await open_document(client, uri, files["app.py"], language_id="python")
        result = await wait_for_snippet(client, uri, 5, 13, "def add(self, price: float)")
        definitions = sorted((s for s in result["snippets"] if s["source"] == "definition"), key=lambda s: -s["score"])
        assert definitions and definitions[0]["path"] == "shop/core.py", result["snippets"]
        assert definitions[0]["range"]["start"]["line"] == 1  # the method itself, not its class


async def test_workspace_folders_added_and_removed_reach_the_context_engine(tmp_path):
    """didChangeWorkspaceFolders goes to the context provider: an added folder is indexed (a definition found only
    through the index, not through an import, reaches the prompt), a removed one is dropped."""
    first, second = tmp_path / "first", tmp_path / "second"
    write_repo(first, {"app.py": "x = 1\n"})
    write_repo(second, {"shop/pricing.py": REPOS["python"]["files"]["shop/pricing.py"]})
    env = script_env(tmp_path, default_reply="")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "cache")
    uri = (second / "shop" / "gross.py").as_uri()
    text = "def gross(amount):\n    return price_with_tax(\n"  # no import: only the index knows where it is
    needle = "def price_with_tax"

    def folders(added: list[Path], removed: list[Path]) -> types.DidChangeWorkspaceFoldersParams:
        event = types.WorkspaceFoldersChangeEvent(
            added=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in added],
            removed=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in removed],
        )
        return types.DidChangeWorkspaceFoldersParams(event=event)

    async with running_server(scripted_server_command(), env, root=first) as client:
        await wait_for(lambda: indexing_done(client))  # the folders at start are indexed: the next one is an event
        client.workspace_did_change_workspace_folders(folders([second], []))
        await open_document(client, uri, text, language_id="python")
        result = await wait_for_snippet(client, uri, 1, 26, needle, attempts=100)
        assert needle in result["prompt"], result["snippets"]
        client.workspace_did_change_workspace_folders(folders([], [second]))
        for _ in range(100):
            result = await inspect(client, uri, 1, 26)
            if needle not in result["prompt"]:
                break
            await asyncio.sleep(0.1)
        assert needle not in result["prompt"]
