"""Running an allowlisted command for the agent: no shell, a timeout, capped output, secrets out of its env.

A command is a list of arguments; it is allowed only when it starts with one of the configured prefixes
(``"python -m pytest"`` allows ``["python", "-m", "pytest", "-q", "tests/x.py"]``). Shell syntax has no
meaning (no shell runs), so ``pytest; rm -rf /`` is just a refused first argument. Every argument, and every
value inside one (``--junitxml=/x``, ``-o cache_dir=/x``, ``--cov-report=xml:/x``, ``-c/x``), that names a path must
stay inside the workspace the command sees and out of version-control folders; pytest may not load plugins by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import signal
from dataclasses import dataclass
from pathlib import Path

_VALUE_SEPARATORS = re.compile(r"[=:,]")
HARMLESS_PATHS = frozenset({"/dev/null"})


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


def check_arguments(argv: list[str], workspace: Path, left_out: frozenset[str]) -> None:
    """Refuse a command whose arguments name a path outside ``workspace`` (the folder the command sees, also its
    working directory) or inside one of the ``left_out`` folders (.git ...)."""
    pytest = any(Path(arg).name in ("pytest", "py.test") for arg in argv[:3])
    for index, arg in enumerate(argv[1:], 1):
        if pytest and (arg == "-p" or (arg.startswith("-p") and not arg.startswith("--"))):
            plugin = arg[2:] or (argv[index + 1] if index + 1 < len(argv) else "")
            if not plugin.startswith("no:"):
                raise CommandRefused(f"-p {plugin} is not allowed: only -p no:NAME (loading plugins by name is not)")
        for value in _values(arg):
            problem = _path_problem(value, workspace, left_out)
            if problem:
                raise CommandRefused(f"argument {arg!r} is refused: {problem}")


def _values(arg: str) -> list[str]:
    """The argument and each value it carries that could be a path."""
    values = [arg, *_VALUE_SEPARATORS.split(arg)[1:]]
    if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
        values.append(arg[2:])  # -c/x, -o/x: a short option with its value attached
    return [v[1:] if v.startswith("@") else v for v in values if v]  # @file: arguments read from a file


def _path_problem(value: str, workspace: Path, left_out: frozenset[str]) -> str | None:
    if value.startswith("-") and not value.startswith("-/"):
        return None
    if value.startswith("~"):
        return f"{value} is in the home folder; commands may only use paths inside the workspace"
    normal = os.path.normpath(value if os.path.isabs(value) else os.path.join(workspace, value))
    if normal in HARMLESS_PATHS:
        return None
    if normal != str(workspace) and not normal.startswith(str(workspace).rstrip("/") + "/"):
        return f"{value} is outside the workspace; commands may only use paths inside it"
    parts = Path(os.path.relpath(normal, workspace)).parts
    hidden = left_out.intersection(parts)
    if hidden:
        return f"{value} is in {sorted(hidden)[0]}, which commands may not use"
    return None


def command_environment(allowed: list[str], dropped: tuple[str, ...] = ()) -> dict[str, str]:
    """Only the allowlisted variables of the server's environment (never the API key's variable): a command's output
    goes to the model, and staged code runs in it."""
    return {name: os.environ[name] for name in allowed if name in os.environ and name not in dropped}


async def run_command(
    argv: list[str], cwd: Path, timeout_s: float, cap_chars: int, env: dict[str, str] | None = None
) -> CommandResult:
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=str(cwd),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env if env is not None else command_environment(["PATH", "LANG"]),
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
    except (TimeoutError, asyncio.CancelledError) as stop:
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
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
