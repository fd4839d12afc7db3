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


async def test_one_privacy_policy_decides_before_and_during_the_completion(tmp_path: Path) -> None:
    """The check before the model loads and the session's pipeline and context engine use the same policy."""
    import argparse

    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.server.cli.complete import cli_session, prepare
    from qwen_lsp.server.session import privacy_policy

    (tmp_path / "app.py").write_text("total = 1\n", encoding="utf-8")
    args = argparse.Namespace(location=f"{tmp_path / 'app.py'}:1:10", root=str(tmp_path), model=None, json=True)
    settings, request, root = prepare(args)
    policy = privacy_policy(settings, [root])
    async with cli_session(settings, request, root, policy) as session:
        assert session.privacy is policy and session.pipeline.privacy is policy
        provider = session.context_provider
        assert isinstance(provider, RepositoryContext) and provider.privacy is policy
        assert policy.roots == [root.as_posix()]
