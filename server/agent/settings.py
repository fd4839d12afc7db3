"""Settings of the agentic refactor (the ``agent`` section): limits, the command allowlist, verification."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..actions.settings import SamplingSettings, ThinkingSettings

# fmt: off
DEFAULT_COMMAND_ENV = [
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "LC_CTYPE",
    "LC_MESSAGES",
    "TERM",
    "TZ",
    "PYTHONPATH",
    "PYTHONIOENCODING",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "JAVA_HOME",
    "NODE_PATH",
]
# fmt: on


class AgentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Offer the qwen.agentRefactor command.")
    sampling: SamplingSettings = Field(
        default_factory=SamplingSettings, description="Sampling for the agent's model calls."
    )
    thinking: ThinkingSettings = Field(
        default_factory=ThinkingSettings, description="Thinking mode and budget per agent step."
    )
    max_steps: int = Field(
        24,
        ge=1,
        le=500,
        description="Most model calls in one agent run; the run stops (keeping its staged edits) when reached.",
    )
    max_seconds: float = Field(600.0, gt=0, description="Wall-clock limit of one agent run in seconds.")
    max_tokens_per_step: int = Field(1536, ge=64, le=65536, description="Most tokens the model may write in one step.")
    context_tokens: int = Field(
        0,
        ge=0,
        description="Token window the conversation must fit in; older tool results are compacted when it runs out. "
        "0 = the local model's n_ctx, or 32768 for a remote one.",
    )
    repository_context_tokens: int | None = Field(
        None,
        ge=0,
        description="Tokens of repository context (related definitions, similar code, whole files for large "
        "windows) added to the task; null = a quarter of the context window, 0 = none.",
    )
    repeat_limit: int = Field(
        3, ge=2, le=20, description="Stop when the model makes the same tool call this many times."
    )
    allowed_commands: list[str] = Field(
        default_factory=lambda: ["python -m pytest", "pytest", "ruff check", "python -m mypy", "mypy"],
        description="Command prefixes the agent may run (split like a shell would, but run without a shell). "
        "A call is allowed when its arguments start with one of these.",
    )
    test_command: str = Field(
        "",
        description="Command run on the staged result in a temporary copy of the workspace before the edit is "
        "proposed (e.g. 'python -m pytest -q'); its pass/fail is reported. Empty = no verification.",
    )
    command_timeout_s: float = Field(
        120.0, gt=0, description="Seconds before a command (or the test command) is killed."
    )
    output_cap_chars: int = Field(
        8000, ge=200, description="Characters of command output kept (the head and the tail)."
    )
    read_max_lines: int = Field(400, ge=10, description="Most lines one read_file call returns.")
    max_file_kb: int = Field(512, ge=1, description="Files larger than this are not read by the agent.")
    copy_max_files: int = Field(
        20000,
        ge=1,
        description="Largest workspace (in files) copied to a temporary folder for commands and verification.",
    )
    sandbox: Literal["auto", "off"] = Field(
        "auto",
        description="'auto': commands and the test command run on the staged code inside bubblewrap (no network, "
        "read-only system, private home) when it works on this machine; 'off' never uses it. Without a sandbox the "
        "user is asked before each run.",
    )
    allow_unsandboxed_commands: bool = Field(
        False,
        description="Run commands on the staged code without a sandbox and without asking (only when no sandbox "
        "works). Off: the user is asked Run/Skip before each run.",
    )
    command_env: list[str] = Field(
        default_factory=lambda: list(DEFAULT_COMMAND_ENV),
        description="Environment variables passed to commands (all others, API keys and tokens among them, are "
        "removed; HOME and TMPDIR point to private folders).",
    )
