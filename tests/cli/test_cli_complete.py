"""The newcomer's first command, ``qwen-lsp complete FILE:LINE:COL``, as a subprocess on the real Qwen2.5-Coder-0.5B."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model_files import repack_survives, require_real_qwen_05b

ROOT = Path(__file__).resolve().parents[2]
QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")


def run(*args: str, model: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    if model is not None:
        env.update(
            {
                "QWEN_LSP_BACKEND__LOCAL__MODEL": str(model),
                "QWEN_LSP_BACKEND__LOCAL__N_THREADS": "1",
                "QWEN_LSP_BACKEND__LOCAL__REPACK": str(repack_survives(model)).lower(),
            }
        )
    return subprocess.run([QWEN_LSP, "complete", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.real_model
def test_the_readme_sample_gets_a_function_body_with_timings() -> None:
    done = run("tests/fixtures/sample.py:14:5", "--json", model=require_real_qwen_05b())
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert "return" in result["completion"] and "order" in result["completion"]
    assert result["model"] and {"model_load", "context", "generate"} <= set(result["timings_ms"])


def test_no_completion_here_says_why_in_json() -> None:
    done = run("tests/fixtures/sample.py:7:3", "--json")  # inside the word "class", text to the right
    assert done.returncode == 3
    result = json.loads(done.stdout)
    assert result["completion"] is None and result["reason"].startswith("no completion here")
