"""The wheel must contain every package: setuptools only ships the ones listed in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
