"""A remote-only install of the wheel built from this checkout: ``pip install qwen-lsp`` without the ``local``
extra, in a venv of its own (no llama-cpp-python, no gguf).

The venv is kept between runs in ``~/.cache/qwen-lsp-tests`` (``QWEN_LSP_TEST_CACHE``), keyed by the declared
dependencies, the Python version and the checkout; each run only reinstalls the freshly built wheel into it. When the venv
cannot be built (no pip cache and no index), the tests that need it are skipped, saying why.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL_MODULES = ("llama_cpp", "gguf")


def _cache_dir() -> Path:
    return Path(os.environ.get("QWEN_LSP_TEST_CACHE", Path.home() / ".cache" / "qwen-lsp-tests"))


def _run_or_skip(command: list[str], what: str, timeout: float = 900) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot {what}: {error}")
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        pytest.skip(f"cannot {what} (exit {done.returncode}):\n{tail}")


def build_wheel(into: Path) -> Path:
    _run_or_skip(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(into), str(ROOT)],
        "build the qwen-lsp wheel",
    )
    [wheel] = into.glob("qwen_lsp-*.whl")
    return wheel


def remote_only_venv(wheel: Path) -> Path:
    """A venv with ``wheel`` installed without extras (its dependencies from pip's cache or the index)."""
    from filelock import FileLock  # a dependency of huggingface-hub

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    # per checkout too: two checkouts tested at once would otherwise install their wheels over each other's
    key = hashlib.sha256(json.dumps([dependencies, sys.version, str(ROOT)]).encode()).hexdigest()[:12]
    venv = _cache_dir() / f"remote-only-{key}"
    python = venv / "bin" / "python"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv) + ".lock"):
        if not (venv / ".complete").exists():
            shutil.rmtree(venv, ignore_errors=True)
            _run_or_skip([sys.executable, "-m", "venv", str(venv)], "create a venv")
            _run_or_skip(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
                "install the wheel and its dependencies into a fresh venv",
            )
            (venv / ".complete").touch()
        else:
            _run_or_skip(
                [
                    str(python),
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--force-reinstall",
                    str(wheel),
                ],
                "reinstall the wheel into the cached venv",
            )
    return venv


def importable(venv: Path, module: str) -> bool:
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(venv / "bin" / "python"), "-c", probe]).returncode == 0
