"""The installed ``qwen-lsp`` over stdio with hand-written JSON-RPC frames: lets a caller close stdin like an editor
that quits without ``shutdown``, and time the exit (tests and bench/bench_faults.py)."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

from lsp_helpers import script_env, server_env

QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")


class RawClient:
    """The installed server over stdio with hand-written frames: lets a test close stdin like an editor that
    quits without ``shutdown``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [QWEN_LSP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
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

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 120.0) -> dict:
        """The next message that ``predicate`` accepts (queue.Empty after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _files_done(message: dict) -> int:
    """How many files a first index has done, from a ``qwen/status`` message (-1 for other messages)."""
    detail = (message.get("params") or {}).get("detail", "") if message.get("method") == "qwen/status" else ""
    found = re.match(r"(\d+)/(\d+) files", detail or "")
    return int(found.group(1)) if found and int(found.group(1)) < int(found.group(2)) else -1


def _indexing_under_way(message: dict) -> bool:
    return _files_done(message) > 0


def _indexing_client(root: Path, tmp: Path, base_url: str, cache: Path) -> RawClient:
    """The server on ``root`` (remote backend at ``base_url``, index cache ``cache``), once its first index is
    under way."""
    env = server_env(
        tmp,
        QWEN_LSP_BACKEND__KIND="remote",
        QWEN_LSP_BACKEND__REMOTE__BASE_URL=base_url,
        QWEN_LSP_BACKEND__REMOTE__API_KEY_ENV="QWEN_LSP_TEST_UNSET_KEY",
        QWEN_LSP_CACHE_DIR=str(cache),
    )
    client = RawClient(env)
    try:
        client.send(
            {
                "id": 1,
                "method": "initialize",
                "params": {
                    "processId": os.getpid(),
                    "rootUri": root.as_uri(),
                    "capabilities": {},
                    "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
                },
            }
        )
        client.wait_for(lambda m: m.get("id") == 1)
        client.send({"method": "initialized", "params": {}})
        client.wait_for(_indexing_under_way)
    except BaseException:
        client.close()
        raise
    return client


def killed_while_indexing(root: Path, tmp: Path, base_url: str, cache: Path) -> None:
    """SIGKILL the server once its first index of ``root`` into ``cache`` is under way."""
    client = _indexing_client(root, tmp, base_url, cache)
    try:
        client.wait_for(lambda m: _files_done(m) >= 100)  # some batches stored
    finally:
        client.close()  # SIGKILL


def seconds_to_exit_while_indexing(root: Path, tmp: Path, base_url: str, how: str, timeout: float) -> float:
    """Start the server on ``root`` (remote backend at ``base_url``, a fresh index cache), and once its first index
    is under way end it (``how``: "stdin closed" or "shutdown and exit"); the seconds until the process exited."""
    client = _indexing_client(root, tmp, base_url, tmp / f"cache-{time.monotonic_ns()}")
    try:
        started = time.monotonic()
        if how == "stdin closed":
            assert client.proc.stdin is not None
            client.proc.stdin.close()
        else:
            client.send({"id": 2, "method": "shutdown"})
            client.wait_for(lambda m: m.get("id") == 2, timeout=timeout)
            client.send({"method": "exit"})
        client.proc.wait(timeout=timeout)
        return time.monotonic() - started
    finally:
        client.close()


async def prompt_at(client, uri: str, line: int, character: int) -> str:
    result = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command="qwen.inspectContext",
            arguments=[{"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}],
        )
    )
    return result.get("prompt", "")


async def wait_for_context(client, uri: str, needle: str, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # indexing runs in the background after initialized
        if needle in await prompt_at(client, uri, 4, 11):
            return True
        await asyncio.sleep(0.1)
    return False


def server_env_with_cache(tmp_path: Path) -> dict[str, str]:
    env = script_env(tmp_path, default_reply="")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "cache")
    return env
