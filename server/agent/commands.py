"""Running an allowlisted command for the agent: no shell, a timeout, capped output, secrets out of its env.

A command is a list of arguments; it is allowed only when it starts with one of the configured prefixes
(``"python -m pytest"`` allows ``["python", "-m", "pytest", "-q", "tests/x.py"]``). Shell syntax has no
meaning (no shell runs), so ``pytest; rm -rf /`` is just a refused first argument.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import signal
from dataclasses import dataclass
from pathlib import Path

_SECRET_ENV = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH", re.IGNORECASE)


class CommandRefused(ValueError):
    """The command is not on the allowlist (the message lists what is)."""


@dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    exit_code: int | None  # None: killed at the timeout
    output: str
    truncated: bool

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    def describe(self) -> str:
        status = "timed out (killed)" if self.exit_code is None else f"exit code {self.exit_code}"
        return f"$ {shlex.join(self.argv)}\n{status}{' (output truncated)' if self.truncated else ''}\n{self.output}"


def parse_command(command: object) -> list[str]:
    """A command given as a list of arguments or as one string (split like a shell would, never run by one)."""
    if isinstance(command, list) and command and all(isinstance(a, str) for a in command):
        return list(command)
    if isinstance(command, str) and command.strip():
        try:
            return shlex.split(command)
        except ValueError as error:
            raise CommandRefused(f"cannot split {command!r}: {error}") from None
    raise CommandRefused('command must be a non-empty list of strings such as ["python", "-m", "pytest"]')


def check_allowed(argv: list[str], allowlist: list[str]) -> None:
    prefixes = [shlex.split(entry) for entry in allowlist if entry.strip()]
    if any(argv[: len(prefix)] == prefix for prefix in prefixes):
        return
    allowed = ", ".join(repr(entry) for entry in allowlist) or "none (agent.allowed_commands is empty)"
    raise CommandRefused(f"{shlex.join(argv)!r} is not allowed; commands must start with one of: {allowed}")


def child_environment(extra_secret_names: tuple[str, ...] = ()) -> dict[str, str]:
    """The server's environment without variables that look like credentials (their values could end up in
    the output shown to the model)."""
    return {k: v for k, v in os.environ.items() if not _SECRET_ENV.search(k) and k not in extra_secret_names}


async def run_command(
    argv: list[str], cwd: Path, timeout_s: float, cap_chars: int, env: dict[str, str] | None = None
) -> CommandResult:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env if env is not None else child_environment(),
        start_new_session=True,  # its own process group, so the timeout kills its children too
    )
    head, tail = bytearray(), bytearray()
    half = max(100, cap_chars // 2)
    dropped = False

    async def read_all() -> None:
        nonlocal dropped, tail
        assert process.stdout is not None
        while chunk := await process.stdout.read(65536):
            room = half - len(head)
            if room > 0:
                head.extend(chunk[:room])
                chunk = chunk[room:]
            tail.extend(chunk)
            if len(tail) > half:
                dropped = True
                tail = tail[-half:]

    try:
        await asyncio.wait_for(read_all(), timeout_s)
        exit_code: int | None = await asyncio.wait_for(process.wait(), timeout_s)
    except (asyncio.TimeoutError, asyncio.CancelledError) as stop:
        _kill_group(process)
        await process.wait()
        if isinstance(stop, asyncio.CancelledError):
            raise
        exit_code = None
    text = head.decode("utf-8", "replace")
    if dropped:
        text += "\n[… output cut …]\n"
    text += tail.decode("utf-8", "replace")
    return CommandResult(argv, exit_code, text, dropped)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
