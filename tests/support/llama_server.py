"""Start a real OpenAI-compatible server (`python -m llama_cpp.server`) on 127.0.0.1 for tests."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from local_extra import require_local_extra
from ports import free_port

require_local_extra()

API_KEY = "sk-test-7f3a9c1e5b2d4f6a8c0e"
KEY_ENV = "QWEN_LSP_TEST_REMOTE_KEY"

# `python -m llama_cpp.server`, optionally without CPU weight repacking (it has no flag for that; see
# model_files.repack_survives).
LAUNCH = """
import runpy, sys
if sys.argv[1] == "no-repack":
    import llama_cpp.llama_cpp as low
    original = low.llama_model_default_params
    def params():
        p = original()
        p.use_extra_bufts = False
        return p
    low.llama_model_default_params = params
sys.argv = ["llama_cpp.server", *sys.argv[2:]]
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
"""


@dataclass
class Server:
    base_url: str
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_llama_server(model: Path, log: Path, repack: bool = True, port: int | None = None) -> Iterator[Server]:
    port = port or free_port()
    args = [
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_threads",
        "1",
        "--n_ctx",
        "2048",
        "--api_key",
        API_KEY,
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCH, "repack" if repack else "no-repack", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited:\n{log.read_text()}")
            request = urllib.request.Request(f"{base_url}/models", headers={"Authorization": f"Bearer {API_KEY}"})
            try:
                with urllib.request.urlopen(request, timeout=5):
                    break
            except OSError:  # not listening yet (URLError is an OSError)
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama_cpp.server did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Server(base_url, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
