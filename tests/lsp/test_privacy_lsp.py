"""The privacy guarantees end to end: the installed ``qwen-lsp`` over stdio, its remote backend pointed at a
recording OpenAI-compatible server on 127.0.0.1, a repository seeded with secrets (``seeded_secrets.py``)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types

from lsp_helpers import first_text, inline_completion, open_document, running_server
from privacy_scenario import QWEN_LSP, remote_env, run_scenario
from recording_endpoint import RecordingEndpoint
from seeded_secrets import KEPT_OUT, seed_repository

UNREACHABLE = "http://192.0.2.1:9/v1"  # TEST-NET-1: never routed; with local_only nothing may even try


@pytest.mark.slow
async def test_no_seeded_secret_reaches_the_endpoint_or_a_log(tmp_path: Path) -> None:
    repo = seed_repository(tmp_path)
    with RecordingEndpoint() as endpoint:
        result = await run_scenario(tmp_path, repo, endpoint)
    assert result.leaks() == {}
    # It was not quiet: completions, the code action and every agent step went out, with repository context,
    # and the ordinary config.py arrived with its credentials replaced.
    assert result.completion_requests >= 5 and result.chat_requests >= len(KEPT_OUT) + 5
    sent = "\n".join(result.bodies)
    assert "def load_config" in sent and "def database_password" not in sent and "def outside_helper" not in sent
    assert "<redacted:aws-access-key-id>" in sent and "<redacted:github-token>" in sent
    assert result.completions_in_kept_out == {relative: None for relative in KEPT_OUT}
    assert result.requests_from_kept_out == 0
    assert result.actions_in_kept_out == {relative: 0 for relative in KEPT_OUT}
    steps = result.agent_result["steps"]
    refused = {json.loads(s["arguments"])["path"] for s in steps if s["tool"] == "read_file" and not s["ok"]}
    assert refused == set(KEPT_OUT)


@pytest.mark.slow
async def test_local_only_refuses_an_endpoint_off_this_machine_but_not_one_on_loopback(tmp_path: Path) -> None:
    uri = "file:///work/demo/app.py"
    env = remote_env(tmp_path, UNREACHABLE, QWEN_LSP_PRIVACY__LOCAL_ONLY="true")
    async with running_server([QWEN_LSP], env) as client:
        await open_document(client, uri, "total = \n")
        for _ in range(2):
            assert await inline_completion(client, uri, 0, 8) is None
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1 and "privacy.local_only" in errors[0] and "192.0.2.1" in errors[0]

    with RecordingEndpoint(completion_text="42") as endpoint:
        env = remote_env(tmp_path, endpoint.base_url, QWEN_LSP_PRIVACY__LOCAL_ONLY="true")
        async with running_server([QWEN_LSP], env) as client:
            await open_document(client, uri, "total = \n")
            assert first_text(await inline_completion(client, uri, 0, 8)) == "42"


@pytest.mark.slow
def test_doctor_shows_local_only_and_does_not_probe_a_refused_endpoint(tmp_path: Path) -> None:
    env = remote_env(tmp_path, UNREACHABLE, QWEN_LSP_PRIVACY__LOCAL_ONLY="true")
    done = subprocess.run([QWEN_LSP, "doctor"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "[FAIL] privacy: privacy.local_only is on and http://192.0.2.1:9/v1 is not on this machine" in done.stdout
    assert "endpoint" not in done.stdout.replace(UNREACHABLE, "")  # never probed
    env = remote_env(tmp_path, UNREACHABLE)
    done = subprocess.run(
        [QWEN_LSP, "doctor"],
        env={**env, "QWEN_LSP_BACKEND__KIND": "local"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "[ok  ] privacy: local_only off" in done.stdout
