"""Nothing but LSP frames on stdout, even while llama.cpp loads a model and generates, and on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from tiny_gguf import write_tiny_qwen_gguf

QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")


def frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def parse_frames(data: bytes) -> list[dict]:
    """Strictly: every byte on stdout must belong to a Content-Length frame."""
    messages = []
    while data:
        header, separator, rest = data.partition(b"\r\n\r\n")
        assert separator, f"stray bytes on stdout: {data[:200]!r}"
        fields = dict(line.split(b": ", 1) for line in header.split(b"\r\n"))
        length = int(fields[b"Content-Length"])
        messages.append(json.loads(rest[:length]))
        data = rest[length:]
    return messages


def test_stdout_carries_only_protocol_frames(tmp_path):
    model = write_tiny_qwen_gguf(tmp_path / "tiny.gguf")
    uri = (tmp_path / "a.py").as_uri()
    requests = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {"processId": None, "rootUri": None, "capabilities": {"textDocument": {"inlineCompletion": {}}}},
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {
            "jsonrpc": "2.0",
            "method": "textDocument/didOpen",
            "params": {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "x = \n"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "textDocument/inlineCompletion",
            "params": {
                "textDocument": {"uri": uri},
                "position": {"line": 0, "character": 4},
                "context": {"triggerKind": 2},
            },
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "textDocument/inlineCompletion",
            "params": {
                "textDocument": {"uri": "file:///missing.py"},
                "position": {"line": 9, "character": 0},
                "context": {"triggerKind": 2},
            },
        },
        {"jsonrpc": "2.0", "id": 4, "method": "no/such/method", "params": {}},
        {"jsonrpc": "2.0", "id": 5, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env.update(
        QWEN_LSP_BACKEND__LOCAL__MODEL=str(model),
        QWEN_LSP_BACKEND__LOCAL__N_THREADS="1",
        QWEN_LSP_COMPLETION__MAX_TOKENS_SINGLE_LINE="8",
        QWEN_LSP_DATA_DIR=str(tmp_path / "data"),
        QWEN_LSP_LOG_LEVEL="debug",
    )
    process = subprocess.Popen(
        [QWEN_LSP], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    output = bytearray()

    def read_stdout() -> None:
        while chunk := os.read(process.stdout.fileno(), 65536):
            output.extend(chunk)

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    errors = threading.Thread(target=process.stderr.read, daemon=True)
    errors.start()
    try:
        for request in requests[:-2]:
            process.stdin.write(frame(request))
            process.stdin.flush()
        deadline = time.monotonic() + 120
        while not {2, 3, 4} <= _answered(bytes(output)) and time.monotonic() < deadline:
            time.sleep(0.1)
        # shutdown, then exit once it is answered (clients must wait: exit ends the process at once)
        for request, answered_id in ((requests[-2], 5), (requests[-1], None)):
            process.stdin.write(frame(request))
            process.stdin.flush()
            deadline = time.monotonic() + 60
            while (
                answered_id is not None and answered_id not in _answered(bytes(output)) and time.monotonic() < deadline
            ):
                time.sleep(0.05)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=5)
    messages = parse_frames(bytes(output))
    answers = {m["id"]: m for m in messages if "id" in m and "method" not in m}
    assert answers[1]["result"]["capabilities"]["inlineCompletionProvider"] is not None
    assert answers[2]["result"] is not None  # the tiny model always writes something
    assert answers[3]["result"] is None
    assert answers[4]["error"]["code"] == -32601  # method not found, and the server carried on
    assert answers[5]["result"] is None


def _answered(data: bytes) -> set:
    try:
        return {m["id"] for m in parse_frames(data) if "id" in m and "method" not in m}
    except (AssertionError, ValueError, KeyError):
        return set()  # a frame is still arriving
