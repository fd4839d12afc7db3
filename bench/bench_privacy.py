"""Privacy benchmark: how many seeded secret values reach a remote endpoint or a log.

The installed ``qwen-lsp`` over stdio with its remote backend pointed at a recording OpenAI-compatible server on
127.0.0.1, on the repository of ``tests/support/seeded_secrets.py`` (.env, a gitignored settings file, a nested
.env.production, credentials.json, id_rsa, links to a file outside the workspace and to /etc/passwd, and an
ordinary config.py holding an AWS key and a GitHub token). The editor opens and edits the kept-out files and
completes inside them; completions in app.py and config.py, a code action and an agent run that asks for every
secret file follow (``tests/support/privacy_scenario.py``). Also the cost of the redactor on the bodies that were sent.

    .venv/bin/python bench/bench_privacy.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from common import Report, show_and_write
from privacy_scenario import run_scenario
from qwen_lsp.clients.remote.redaction import redact_json
from recording_endpoint import RecordingEndpoint
from seeded_secrets import KEPT_OUT, seed_repository, seeded_values


def redaction_cost(bodies: list[bytes]) -> tuple[float, float, int]:
    """(median ms per request body, largest body in KB, values redacted) for redacting the bodies again."""
    times, found = [], 0
    for body in bodies:
        data = json.loads(body)
        started = time.perf_counter()
        _, counts = redact_json(data)
        times.append((time.perf_counter() - started) * 1000)
        found += sum(counts.values())
    times.sort()
    return times[len(times) // 2], max(len(b) for b in bodies) / 1024, found


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        repo = seed_repository(tmp)
        with RecordingEndpoint() as endpoint:
            result = await run_scenario(tmp, repo, endpoint)
            raw_bodies = endpoint.bodies
    values = seeded_values()
    leaked = result.leaks()
    median_ms, largest_kb, redacted_again = redaction_cost(raw_bodies)
    report = Report("privacy")
    report.add(
        "seeded secret values leaked (request bodies, log file, stderr, editor messages)",
        f"{len(leaked)} of {len(values)}",
        goal="0",
        met=not leaked,
    )
    report.add(
        "completion requests from inside kept-out files",
        result.requests_from_kept_out,
        goal="0",
        met=result.requests_from_kept_out == 0,
    )
    report.add(
        "kept-out files given a completion or a code action",
        sum(1 for v in result.completions_in_kept_out.values() if v)
        + sum(1 for n in result.actions_in_kept_out.values() if n),
        goal="0",
    )
    report.add("requests sent (completions / chats)", f"{result.completion_requests} / {result.chat_requests}")
    report.add("redactor time per request body, median", median_ms, "ms", note=f"largest body {largest_kb:.1f} KB")
    report.add("credential-like values left in sent bodies", redacted_again, goal="0", met=redacted_again == 0)
    report.details = {
        "seeded": sorted(values),
        "leaked": leaked,
        "kept_out_files": KEPT_OUT,
        "agent_steps": [(s["tool"], s["ok"]) for s in (result.agent_result or {}).get("steps", [])],
    }
    show_and_write(report, "privacy.json")


if __name__ == "__main__":
    asyncio.run(main())
