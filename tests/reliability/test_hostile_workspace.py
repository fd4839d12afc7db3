"""Hostile workspaces: FIFOs where files are expected (never block the index or the exit) and deep chains of
.gitignore files (cost in proportion to the depth, counted in ignore-file reads and pattern matches)."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pathspec
import pytest
from lsprotocol import types
from server_process import server_env_with_cache, wait_for_context
from workspaces import CART, PRICING, write_chain, write_shop

from lsp_helpers import open_document, running_server, scripted_server_command
from qwen_lsp.context.index import files
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions
from qwen_lsp.server.agent.paths import WorkspacePaths

SHUTDOWN_BOUND = 10.0  # seconds; a blocked index held shutdown for 35 s


@contextlib.asynccontextmanager
async def shop_server(tmp_path: Path, root: Path) -> AsyncIterator:
    """The scripted server on ``root`` with cart.py open; its shutdown must take less than SHUTDOWN_BOUND."""
    server = running_server(scripted_server_command(), server_env_with_cache(tmp_path), root=root)
    client = await server.__aenter__()
    try:
        await open_document(client, (root / "shop" / "cart.py").as_uri(), CART)
        yield client
    finally:
        started = time.monotonic()
        await server.__aexit__(None, None, None)
    assert time.monotonic() - started < SHUTDOWN_BOUND


async def test_a_fifo_as_git_info_exclude_blocks_neither_indexing_nor_shutdown(tmp_path):
    root = tmp_path / "repo"
    write_shop(root)
    (root / ".git" / "info").mkdir(parents=True)
    os.mkfifo(root / ".git" / "info" / "exclude")  # opening it for reading waits for a writer
    uri = (root / "shop" / "cart.py").as_uri()
    async with shop_server(tmp_path, root) as client:
        assert await wait_for_context(client, uri, "def price_with_tax")


async def test_a_change_event_for_a_fifo_does_not_block_the_index(tmp_path):
    root = tmp_path / "repo"
    write_shop(root)
    uri = (root / "shop" / "cart.py").as_uri()
    async with shop_server(tmp_path, root) as client:
        assert await wait_for_context(client, uri, "def price_with_tax")
        os.mkfifo(root / "shop" / "pipe.py")
        (root / "shop" / "pricing.py").write_text(PRICING.replace("TAX_RATE)", "TAX_RATE)  # changed"))
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[
                    types.FileEvent(uri=(root / "shop" / "pipe.py").as_uri(), type=types.FileChangeType.Created),
                    types.FileEvent(uri=(root / "shop" / "pricing.py").as_uri(), type=types.FileChangeType.Changed),
                ]
            )
        )
        # the file after the FIFO is indexed again: the index went past it
        assert await wait_for_context(client, uri, "# changed")


DEPTH = 120  # enough to tell depth x files (before: 20 x 121 reads) from depth + files


def test_a_deep_gitignore_chain_costs_time_in_proportion_to_its_depth(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    bottom = write_chain(root, DEPTH)
    reads, matches, lstats = [0], [0], [0]
    read_patterns, match_file, lstat = files.read_patterns, pathspec.GitIgnoreSpec.match_file, os.lstat

    def counting_read(path):
        reads[0] += 1
        return read_patterns(path)

    def counting_match(self, path, *args, **kwargs):
        matches[0] += 1
        return match_file(self, path, *args, **kwargs)

    def counting_lstat(path, *args, **kwargs):
        lstats[0] += 1
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(files, "read_patterns", counting_read)
    monkeypatch.setattr(pathspec.GitIgnoreSpec, "match_file", counting_match)
    monkeypatch.setattr(os, "lstat", counting_lstat)  # os.path.realpath: one lstat per folder on the way
    engine = RepositoryContext(ContextOptions(index_processes=0), cache_dir=tmp_path / "cache")
    try:
        engine.start([root])
        indexed = {record.rel.rsplit("/", 1)[-1] for record in engine.index.files.values()}
        assert indexed == {f"f{i}.py" for i in range(20)} | {"keep.tmp.py"}  # junk.tmp.py is ignored
        walk_reads, walk_matches = reads[0], matches[0]
        assert walk_reads <= DEPTH + 2
        assert walk_matches <= 4 * (DEPTH + 25)  # before: every folder against every ancestor's file (~DEPTH²/2)

        reads[0] = matches[0] = lstats[0] = 0
        for i in range(20):  # change events re-check the ignore files above each file
            (bottom / f"f{i}.py").write_text(f"def g{i}():\n    return {i}\n")
        engine.files_changed([bottom / f"f{i}.py" for i in range(20)]).result(60)
        assert reads[0] <= DEPTH + 2  # before: DEPTH + 1 reads for each of the 20 files
        assert matches[0] <= 4 * (DEPTH + 25)
        assert lstats[0] <= 4 * (DEPTH + 25)  # before: the outside-link check resolved each file folder by folder
    finally:
        engine.stop()


def test_ignore_files_nested_deeper_take_precedence_as_in_git(tmp_path):
    root = tmp_path / "repo"
    (root / "sub" / "made").mkdir(parents=True)
    (root / "made").mkdir()
    (root / ".gitignore").write_text("*.gen.py\n/made/\n")
    (root / "sub" / ".gitignore").write_text("!keep.gen.py\n")
    for rel in ("a.gen.py", "sub/keep.gen.py", "sub/other.gen.py", "made/x.py", "sub/made/y.py", "sub/z.py"):
        (root / rel).write_text("x = 1\n")
    walked = {entry.rel for entry in files.walk_folder(root)}
    assert walked == {"sub/keep.gen.py", "sub/made/y.py", "sub/z.py"}  # /made/ is the root's only
    cache: dict = {}
    for rel in ("a.gen.py", "sub/keep.gen.py", "sub/other.gen.py", "made/x.py", "sub/made/y.py", "sub/z.py"):
        assert (files.indexable(root, rel, None, cache) is not None) == (rel in walked), rel


def test_reading_a_fifo_returns_at_once(tmp_path):
    os.mkfifo(tmp_path / "x.py")
    assert files.read_bytes(tmp_path / "x.py", 1 << 20) == (None, "not a regular file")
    assert files.read_patterns(tmp_path / "x.py") == []


@pytest.mark.timeout(30)
def test_the_agent_is_not_blocked_by_a_fifo_as_git_info_exclude(tmp_path):
    (tmp_path / ".git" / "info").mkdir(parents=True)
    os.mkfifo(tmp_path / ".git" / "info" / "exclude")
    (tmp_path / "a.py").write_text("x = 1\n")
    assert WorkspacePaths([tmp_path], []).visible(tmp_path, "a.py", False)
