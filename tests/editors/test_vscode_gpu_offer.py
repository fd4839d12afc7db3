"""The VS Code installer's GPU detection (src/installer.ts, which needs no VS Code API), bundled by esbuild and run
by Node with a stand-in nvidia-smi on PATH: the card's name is said once, and the CUDA build flags go with it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

VSCODE = Path(__file__).resolve().parents[2] / "editors" / "vscode"
ESBUILD = VSCODE / "node_modules" / ".bin" / "esbuild"

pytestmark = pytest.mark.editor


@pytest.fixture(scope="module")
def installer_module(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not ESBUILD.exists() or not shutil.which("node"):
        pytest.skip("needs Node and editors/vscode/node_modules: run `bash tests/editors/install.sh`")
    bundle = tmp_path_factory.mktemp("installer") / "installer.js"
    subprocess.run(
        [str(ESBUILD), "src/installer.ts", "--bundle", "--platform=node", "--format=cjs", f"--outfile={bundle}"],
        cwd=VSCODE,
        check=True,
        capture_output=True,
    )
    return bundle


@pytest.mark.parametrize(
    ("reported", "label"), [("NVIDIA GeForce RTX 4090", "NVIDIA GeForce RTX 4090"), ("Tesla T4", "NVIDIA Tesla T4")]
)
def test_an_nvidia_gpu_is_offered_the_cuda_build(installer_module: Path, tmp_path: Path, reported: str, label: str):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text(f"#!/bin/sh\necho '{reported}'\n")
    (fake / "nvidia-smi").chmod(0o755)
    script = f"require({json.dumps(str(installer_module))}).detectGpu().then(g => console.log(JSON.stringify(g)))"
    env = {**os.environ, "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["node", "-e", script], env=env, capture_output=True, text=True, timeout=60, check=True)
    gpu = json.loads(done.stdout)
    assert gpu == {"label": label, "cmakeArgs": "-DGGML_CUDA=on", "needs": "the CUDA toolkit (nvcc)"}
