"""Running a command on the staged code (the agent's ``run_command`` and the test command): in the workspace copy,
inside the sandbox when there is one, otherwise only after the user agrees (``Approval``) or when
``agent.allow_unsandboxed_commands`` allows it."""

from __future__ import annotations

import asyncio
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path

from .commands import CommandRefused, CommandResult, check_arguments, run_command
from .isolation import Launch, SandboxStatus, configured_sandbox, in_bubblewrap, unsandboxed
from .sandbox import LEFT_OUT_DIRS, WorkspaceCopy
from .settings import AgentSettings

Approval = Callable[[str], Awaitable[bool]]  # the question for the user → whether they agreed


class CommandRunner:
    def __init__(
        self,
        copy: WorkspaceCopy,
        settings: AgentSettings,
        env: dict[str, str],
        approve: Approval | None = None,
        other_roots: list[Path] | None = None,
    ) -> None:
        self.copy, self.settings, self.env, self.approve = copy, settings, env, approve
        self.other_roots = other_roots or []

    async def status(self) -> SandboxStatus:
        return await asyncio.to_thread(configured_sandbox, self.settings.sandbox)

    async def run(self, argv: list[str], staged: dict[Path, str], check: bool) -> CommandResult:
        """Run ``argv`` on the staged files; ``check``: its arguments must name no path outside the workspace.
        CommandRefused when refused (the message is for the model) or FileNotFoundError for an unknown program."""
        status = await self.status()
        await asyncio.to_thread(self.copy.sync, staged)
        if status.active:
            launch = in_bubblewrap(argv, self.copy, self.env, self.other_roots)
        else:
            launch = unsandboxed(argv, self.copy, self.env)
        if check:
            check_arguments(argv, launch.workspace, LEFT_OUT_DIRS)
        if not launch.sandboxed:
            await self._confirm(argv, status)
        return await self._start(launch)

    async def _confirm(self, argv: list[str], status: SandboxStatus) -> None:
        if self.settings.allow_unsandboxed_commands:
            return
        question = (
            f"The Qwen agent wants to run `{shlex.join(argv)}` on its staged, not yet reviewed edits WITHOUT a "
            f"sandbox (no sandbox: {status.detail}). The code it runs can read and change your files and use the "
            "network. Run it?"
        )
        if self.approve is None or not await self.approve(question):
            raise CommandRefused(
                f"the user did not allow running {shlex.join(argv)!r}: there is no sandbox ({status.detail}), so "
                "each command needs the user's consent. Continue without running commands."
            )

    async def _start(self, launch: Launch) -> CommandResult:
        timeout, cap = self.settings.command_timeout_s, self.settings.output_cap_chars
        result = await run_command(launch.argv, launch.cwd, timeout, cap, launch.env)
        if launch.sandboxed:  # show the command as the model asked for it, not the sandbox's own arguments
            argv = launch.argv[launch.argv.index("--") + 1 :]
            result = CommandResult(argv, result.exit_code, result.output, result.truncated)
        return result
