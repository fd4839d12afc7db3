"""Verification: the configured test command run on the staged result in the workspace copy (sandboxed, or with the
user's consent)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from .commands import CommandRefused
from .runner import CommandRunner
from .sandbox import SandboxError


@dataclass(frozen=True)
class Verification:
    command: str
    passed: bool
    exit_code: int | None
    output: str  # the tail of the output
    ran: bool = True  # False: refused (no sandbox and no consent) or could not start

    def as_json(self) -> dict:
        return {
            "command": self.command,
            "passed": self.passed,
            "exitCode": self.exit_code,
            "output": self.output,
            "ran": self.ran,
        }


async def verify(runner: CommandRunner, staged: dict[Path, str], command: str) -> Verification:
    """Run ``command`` (the user's own setting: not checked against the agent's allowlist) on the staged files."""
    try:
        result = await runner.run(shlex.split(command), staged, check=False)
    except CommandRefused as refused:
        return Verification(command, False, None, f"not run: {refused}", ran=False)
    except (ValueError, OSError, SandboxError) as error:
        return Verification(command, False, None, f"could not run the test command: {error}", ran=False)
    return Verification(command, result.passed, result.exit_code, result.output[-2000:])
