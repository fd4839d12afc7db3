"""The index's lifetime: a damaged database is moved aside, rebuilt and reported once; damaged blobs are caught by
their checksum; an exit during a big first index is prompt."""

from __future__ import annotations

import json
import marshal
import os
import queue
import random
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fault_endpoint import FaultEndpoint
from lsp_helpers import open_document, running_server, scripted_server_command, server_env
from test_hostile_workspace import CART, server_env_with_cache, wait_for_context, write_shop

from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions
from qwen_lsp.context.store import IndexStore

QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")
EXIT_BOUND = 10.0  # seconds; before, an exit waited for the whole first index (54 s for 5,000 files)


def write_filler(root: Path, count: int, functions: int = 1, per_folder: int = 100) -> None:
    """``count`` modules of ``functions`` small functions each."""
    for i in range(count):
        folder = root / f"pkg{i // per_folder}"
        folder.mkdir(exist_ok=True)
        (folder / f"mod{i}.py").write_text("".join(
            f"def function_{i}_{j}(value):\n    \"\"\"Number {i}.{j}.\"\"\"\n    return value + {i * j}\n\n\n"
            for j in range(functions)))


def damage_pages(database: Path, seed: int = 7) -> None:
    """Random bytes over every other page after the first: the header stays intact, as after a bad disk."""
    data = bytearray(database.read_bytes())
    page = int.from_bytes(data[16:18], "big") or 65536
    rng = random.Random(seed)
    for start in range(page, len(data), 2 * page):
        data[start:start + page] = rng.randbytes(min(page, len(data) - start))
    database.write_bytes(bytes(data))


def warnings_about_damage(client) -> list[str]:
    return [m.message for m in client.messages if "damaged" in m.message]


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


def test_damage_found_while_reading_is_recovered_the_same_way(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    write_shop(root)
    cache = tmp_path / "cache"
    first = RepositoryContext(ContextOptions(index_processes=0), cache_dir=cache)
    first.start([root])
    first.stop()
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
    root = tmp_path / "repo"
    write_shop(root)
    cache = tmp_path / "cache"
    first = RepositoryContext(ContextOptions(index_processes=0), cache_dir=cache)
    first.start([root])
    first.stop()
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


class _RawClient:
    """The installed server over stdio with hand-written frames: lets a test close stdin like an editor that
    quits without ``shutdown``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([QWEN_LSP], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        self.messages: queue.Queue[dict] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while header := stream.readline():
            length = int(header.split(b":")[1]) if header.lower().startswith(b"content-length") else None
            while stream.readline().strip():
                pass
            if length is not None:
                self.messages.put(json.loads(stream.read(length)))

    def wait_for(self, predicate, timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message


def indexing_under_way(message: dict) -> bool:
    detail = (message.get("params") or {}).get("detail", "") if message.get("method") == "qwen/status" else ""
    found = re.match(r"(\d+)/(\d+) files", detail or "")
    return bool(found) and int(found.group(2)) >= 5000 and 0 < int(found.group(1)) < int(found.group(2))


@pytest.mark.parametrize("how", ["stdin closed", "shutdown and exit"])
def test_exit_during_a_big_first_index_is_prompt(tmp_path, how):
    root = tmp_path / "repo"
    root.mkdir()
    write_filler(root, 5000, functions=30)  # a first index of minutes on a busy machine
    with FaultEndpoint("ok") as endpoint:
        env = server_env(tmp_path, QWEN_LSP_BACKEND__KIND="remote", QWEN_LSP_BACKEND__REMOTE__BASE_URL=endpoint.base_url,
                         QWEN_LSP_BACKEND__REMOTE__API_KEY_ENV="QWEN_LSP_TEST_UNSET_KEY",
                         QWEN_LSP_CACHE_DIR=str(tmp_path / "cache"))
        client = _RawClient(env)
        try:
            client.send({"id": 1, "method": "initialize", "params": {
                "processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {},
                "workspaceFolders": [{"uri": root.as_uri(), "name": "repo"}]}})
            client.wait_for(lambda m: m.get("id") == 1)
            client.send({"method": "initialized", "params": {}})
            client.wait_for(indexing_under_way)
            started = time.monotonic()
            if how == "stdin closed":
                assert client.proc.stdin is not None
                client.proc.stdin.close()
            else:
                client.send({"id": 2, "method": "shutdown"})
                client.wait_for(lambda m: m.get("id") == 2, timeout=EXIT_BOUND)
                client.send({"method": "exit"})
            client.proc.wait(timeout=EXIT_BOUND)
            assert time.monotonic() - started < EXIT_BOUND
        finally:
            if client.proc.poll() is None:
                client.proc.kill()
                client.proc.wait()
