"""Verification: the configured test command run on the staged result, in the temporary workspace copy."""

from __future__ import annotations

import asyncio
import shlex
from dataclasses import dataclass
from pathlib import Path

from .commands import run_command
from .sandbox import SandboxError, WorkspaceCopy


@dataclass(frozen=True)
class Verification:
    command: str
    passed: bool
    exit_code: int | None
    output: str  # the tail of the output

    def as_json(self) -> dict:
        return {"command": self.command, "passed": self.passed, "exitCode": self.exit_code, "output": self.output}


async def verify(
    copy: WorkspaceCopy,
    staged: dict[Path, str],
    command: str,
    timeout_s: float,
    cap_chars: int,
    env: dict[str, str] | None = None,
) -> Verification:
    """Run ``command`` (the user's own setting: not checked against the agent's allowlist) on the staged files."""
    try:
        argv = shlex.split(command)
        await asyncio.to_thread(copy.sync, staged)
        result = await run_command(argv, copy.path, timeout_s, cap_chars, env)
    except (ValueError, OSError, SandboxError) as error:
        return Verification(command, False, None, f"could not run the test command: {error}")
    return Verification(command, result.passed, result.exit_code, result.output[-2000:])
