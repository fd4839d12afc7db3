"""The wheel must contain every package: setuptools only ships the ones listed in pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {"server": "qwen_lsp.server", "context": "qwen_lsp.context", "clients": "qwen_lsp.clients"}


def source_packages() -> set[str]:
    found = set()
    for folder, package in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((package, *relative)))
    return found


def test_every_package_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    assert source_packages() == listed


@pytest.mark.slow
def test_built_wheel_contains_every_module_and_no_generic_top_level_names(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = tmp_path.glob("qwen_lsp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top_level == {"qwen_lsp"}
    for folder, package in MAPPING.items():
        for module in (ROOT / folder).rglob("*.py"):
            expected = "/".join((*package.split("."), *module.relative_to(ROOT / folder).parts))
            assert expected in names, f"{expected} missing from the wheel"
    # the license as an SPDX expression with its text (PEP 639), not the deprecated `license = { text = ... }`
    [metadata] = [name for name in names if name.endswith(".dist-info/METADATA")]
    assert "License-Expression: Apache-2.0" in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)


@pytest.mark.slow
def test_without_the_local_extra_the_tests_that_need_it_are_skipped_not_failed():
    """As a remote-only install sees the suite (llama-cpp-python and gguf unimportable): it collects cleanly."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "support")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "without_local_extra",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            str(ROOT / "tests"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0 and "error" not in done.stdout.splitlines()[-1], done.stdout[-3000:]
    collected = done.stdout.splitlines()
    assert any(line.startswith("tests/clients/test_models_hub.py::") for line in collected)  # no llama.cpp needed: runs
    assert not any(line.startswith("tests/clients/test_tiny_gguf.py::") for line in collected)  # needs gguf: skipped
