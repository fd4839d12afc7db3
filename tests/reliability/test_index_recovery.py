"""The index's lifetime: a damaged database is moved aside, rebuilt and reported once; damaged blobs are caught by
their checksum; an exit during a big first index is prompt; a kill -9 while indexing leaves an index the next start
reuses."""

from __future__ import annotations

import marshal
import sqlite3
from pathlib import Path

import pytest
from fault_endpoint import FaultEndpoint
from server_process import (
    killed_while_indexing,
    seconds_to_exit_while_indexing,
    server_env_with_cache,
    wait_for_context,
)
from workspaces import CART, damage_pages, write_filler, write_shop

from lsp_helpers import open_document, running_server, scripted_server_command
from qwen_lsp.context.index.store import IndexStore
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions

EXIT_BOUND = 10.0  # seconds; before, an exit waited for the whole first index (54 s for 5,000 files)


def warnings_about_damage(client) -> list[str]:
    return [m.message for m in client.messages if "damaged" in m.message]


@pytest.mark.slow
async def test_a_damaged_index_database_is_moved_aside_rebuilt_and_reported_once(tmp_path):
    root = tmp_path / "repo"
    write_shop(root)
    write_filler(root, 150)
    uri = (root / "shop" / "cart.py").as_uri()
    env = server_env_with_cache(tmp_path)
    env["QWEN_LSP_CONTEXT__INDEX_PROCESSES"] = "0"
    for run in ("first", "damaged", "after"):
        async with running_server(scripted_server_command(), env, root=root) as client:
            await open_document(client, uri, CART)
            assert await wait_for_context(client, uri, "def price_with_tax"), run
            assert len(warnings_about_damage(client)) == (1 if run == "damaged" else 0), client.messages
        databases = list((tmp_path / "cache" / "index").glob("*.sqlite"))
        assert len(databases) == 1
        if run == "first":
            assert not Path(f"{databases[0]}-wal").exists()  # a clean shutdown leaves one file to damage
            damage_pages(databases[0])
    assert list((tmp_path / "cache" / "index").glob("*.sqlite.damaged"))
    with sqlite3.connect(databases[0]) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def indexed_shop(tmp_path: Path) -> tuple[Path, Path]:
    """The shop indexed once and saved: (its root, the index cache folder)."""
    root, cache = tmp_path / "repo", tmp_path / "cache"
    write_shop(root)
    first = RepositoryContext(ContextOptions(index_processes=0), cache_dir=cache)
    first.start([root])
    first.stop()
    return root, cache


def test_damage_found_while_reading_is_recovered_the_same_way(tmp_path, monkeypatch):
    root, cache = indexed_shop(tmp_path)
    load_all = IndexStore.load_all
    failures = [sqlite3.DatabaseError("database disk image is malformed")]

    def failing_once(self):
        if failures:
            raise failures.pop()
        return load_all(self)

    monkeypatch.setattr(IndexStore, "load_all", failing_once)
    problems: list[str] = []
    engine = RepositoryContext(ContextOptions(index_processes=0), cache_dir=cache, on_problem=problems.append)
    try:
        engine.start([root])
        assert len(problems) == 1 and "damaged" in problems[0]
        assert engine.index.definitions_named("price_with_tax")
        assert engine.scan_stats()[root.as_posix()].parsed == 2  # rebuilt from the files
        assert list((cache / "index").glob("*.sqlite.damaged"))
    finally:
        engine.stop()


def test_blobs_are_checked_before_they_are_decoded(tmp_path):
    root, cache = indexed_shop(tmp_path)
    database = next((cache / "index").glob("*.sqlite"))
    with sqlite3.connect(database) as db:  # well-formed data of the wrong content (no definitions), unsealed
        (digest,) = db.execute("SELECT hash FROM files WHERE path = 'shop/pricing.py'").fetchone()
        db.execute("UPDATE blobs SET data = ? WHERE hash = ?", (marshal.dumps(("python", [], [], 5)), digest))
    engine = RepositoryContext(ContextOptions(index_processes=0), cache_dir=cache)
    try:
        engine.start([root])
        stats = engine.scan_stats()[root.as_posix()]
        assert (stats.loaded, stats.parsed) == (1, 1)  # cart.py as stored; pricing.py read again
        assert engine.index.definitions_named("price_with_tax")
    finally:
        engine.stop()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["stdin closed", "shutdown and exit"])
def test_exit_during_a_big_first_index_is_prompt(tmp_path, how):
    root = tmp_path / "repo"
    root.mkdir()
    write_filler(root, 5000, functions=30)  # a first index of minutes on a busy machine
    with FaultEndpoint("ok") as endpoint:
        assert seconds_to_exit_while_indexing(root, tmp_path, endpoint.base_url, how, EXIT_BOUND) < EXIT_BOUND


@pytest.mark.slow
def test_a_server_killed_while_indexing_leaves_an_index_the_restart_reuses(tmp_path):
    root, cache = tmp_path / "repo", tmp_path / "cache"
    root.mkdir()
    write_filler(root, 2000, functions=10)
    with FaultEndpoint("ok") as endpoint:
        killed_while_indexing(root, tmp_path, endpoint.base_url, cache)
    [database] = (cache / "index").glob("*.sqlite")
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        stored = db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    assert 0 < stored < 2000  # what was indexed before the kill is on disk, and the index was not finished
    problems: list[str] = []
    engine = RepositoryContext(ContextOptions(index_processes=0), cache_dir=cache, on_problem=problems.append)
    try:
        engine.start([root])
        stats = engine.scan_stats()[root.as_posix()]
        assert problems == []  # not taken for a damaged database
        assert stats.loaded + stats.from_snapshot >= stored and stats.total == 2000
        assert engine.index.definitions_named("function_1999_9") and engine.index.definitions_named("function_0_0")
    finally:
        engine.stop()
