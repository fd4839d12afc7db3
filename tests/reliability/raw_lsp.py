"""A raw stdio LSP client for reliability tests: sends arbitrary bytes, parses stdout strictly (every byte must
belong to a well-formed frame) and counts the answers per request id."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

SUPPORT = Path(__file__).resolve().parents[1] / "support"
SCRIPTED_SERVER = [sys.executable, str(SUPPORT / "scripted_server.py")]
_ids = itertools.count(1)


def frame(message: Any) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def new_id() -> int:
    return next(_ids)


def scripted_env(tmp_path: Path, **script: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env["QWEN_LSP_DATA_DIR"] = str(tmp_path / "data")
    env["QWEN_LSP_TEST_SCRIPT"] = json.dumps(script)
    env["QWEN_LSP_COMPLETION__DEBOUNCE_MS"] = "0"
    return env


class RawServer:
    def __init__(self, env: dict[str, str], command: list[str] = SCRIPTED_SERVER, stderr_path: Path | None = None):
        self._stderr = open(stderr_path or os.devnull, "wb")  # noqa: SIM115 - closed by close()
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        self.messages: list[dict] = []
        self.answers: dict[Any, list[dict]] = defaultdict(list)
        self.stray: bytes | None = None  # bytes on stdout that are not a frame
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # --- stdout ---------------------------------------------------------------------------------------------
    def _read(self) -> None:
        buffer = b""
        fd = self.process.stdout.fileno()
        while chunk := os.read(fd, 1 << 16):
            buffer += chunk
            while True:
                header, separator, rest = buffer.partition(b"\r\n\r\n")
                if not separator:
                    break
                fields = {}
                for line in header.split(b"\r\n"):
                    name, colon, value = line.partition(b": ")
                    if not colon:
                        self._record_stray(buffer)
                        return
                    fields[name] = value
                if b"Content-Length" not in fields:
                    self._record_stray(buffer)
                    return
                length = int(fields[b"Content-Length"])
                if len(rest) < length:
                    break
                try:
                    message = json.loads(rest[:length])
                except ValueError:
                    self._record_stray(buffer)
                    return
                buffer = rest[length:]
                with self._changed:
                    self.messages.append(message)
                    if "id" in message and "method" not in message:
                        self.answers[message["id"]].append(message)
                    self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def _record_stray(self, data: bytes) -> None:
        with self._changed:
            self.stray = data[:300]
            self._changed.notify_all()

    # --- stdin ----------------------------------------------------------------------------------------------
    def send_bytes(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_bytes(frame(message))

    def request(self, method: str, params: Any = None, msg_id: Any = None) -> Any:
        msg_id = new_id() if msg_id is None else msg_id
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def notify(self, method: str, params: Any = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    # --- waiting ----------------------------------------------------------------------------------------------
    def wait_answers(self, ids: list, timeout: float = 20.0) -> None:
        """Until every id has an answer (or the timeout: the caller's assertions then say which are missing)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while any(not self.answers.get(i) for i in ids) and self.stray is None:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    return
                self._changed.wait(min(left, 0.2))

    def call(self, method: str, params: Any = None, timeout: float = 20.0) -> dict:
        msg_id = self.request(method, params)
        self.wait_answers([msg_id], timeout)
        assert self.answers.get(msg_id), f"no answer to {method} within {timeout} s (server alive: {self.alive})"
        return self.answers[msg_id][0]

    def null_id_errors(self) -> list[dict]:
        return [m for m in self.messages if m.get("id", 0) is None and "error" in m]

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def initialize(self, capabilities: dict | None = None) -> dict:
        answer = self.call("initialize", {"processId": None, "rootUri": None, "capabilities": capabilities or {}})
        self.notify("initialized", {})
        return answer

    def exit(self, timeout: float = 20.0) -> int:
        try:
            self.notify("exit")
            return self.process.wait(timeout=timeout)
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        self._stderr.close()
