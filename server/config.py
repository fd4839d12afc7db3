"""Server configuration: pydantic models with a description on every field.

Read from ``QWEN_LSP_*`` environment variables (nested with ``__``, e.g. ``QWEN_LSP_BACKEND__KIND=remote``), then
``initializationOptions``, then the client's ``workspace/configuration`` section ``qwenLsp``. An invalid value gives
one clear warning and keeps the default for that field; it never stops the server.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qwen_lsp.clients.settings import BackendSettings
from qwen_lsp.context.privacy import DEFAULT_SECRET_FILES
from qwen_lsp.context.settings import ContextOptions

from .actions.settings import ActionsSettings
from .agent.settings import AgentSettings


class CompletionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="Offer inline completions at all.")
    debounce_ms: int = Field(
        75,
        ge=0,
        le=5000,
        description="Wait this long after a request before starting the model; a newer request for the same document replaces it.",
    )
    max_tokens: int = Field(
        128, ge=1, le=4096, description="Most tokens generated for a multi-line (block) completion."
    )
    max_tokens_single_line: int = Field(
        48, ge=1, le=1024, description="Most tokens generated when completing one line."
    )
    max_seconds: float = Field(
        120.0,
        gt=0,
        le=3600,
        description="Wall-clock limit of one completion request: waiting for the model to load or the "
        "endpoint to answer, then generating. A request still waiting gets no completion (loading goes on); a "
        "generation still running is stopped and dropped, with one message. The default leaves room for a cold "
        "first prompt on a CPU.",
    )
    temperature: float = Field(
        0.0, ge=0.0, le=2.0, description="Sampling temperature for completions (0 = greedy, reproducible)."
    )
    max_prefix_chars: int = Field(
        6000, ge=100, description="Characters of the current file before the cursor sent to the model."
    )
    max_suffix_chars: int = Field(
        300,
        ge=0,
        description="Characters of the current file after the cursor sent to the model. The suffix comes after the "
        "cursor in the prompt, so it is evaluated again at every keystroke: keep it short on a CPU.",
    )
    disabled_languages: list[str] = Field(
        default_factory=list, description="LSP language ids with no completions (e.g. ['markdown'])."
    )
    ignored_globs: list[str] = Field(
        default_factory=list,
        description="Gitignore-style patterns (without '/': at any depth) of further files with no completions; "
        "files kept out by the privacy policy (privacy.secret_files, ignored files) never get any.",
    )
    stop: list[str] = Field(default_factory=list, description="Extra stop strings on top of the model family's own.")
    cache_size: int = Field(
        256, ge=0, description="Completions remembered (LRU); typing what a cached completion predicted reuses it."
    )
    prewarm: bool = Field(
        True,
        description="Evaluate a file's prompt in the background when it gets focus (qwen/didFocus) or you pause, so the "
        "first keystroke only evaluates its end. Any request interrupts it at once.",
    )
    prewarm_after_ms: int = Field(
        1000, ge=0, le=60000, description="A pause this long after an edit starts a warm-up at the edit."
    )
    prompt_budget_ms: int = Field(
        1000,
        ge=0,
        le=600000,
        description="When the model would take longer than this to read the part of the prompt it has not cached (a "
        "cold file, a large edit), answer first from a shorter prompt (the file's path and the lines around the cursor, "
        "no repository context; used when at least twice as quick) and warm the full one in the background; 0 always "
        "waits for the full prompt.",
    )
    speculate: bool = Field(
        True,
        description="After a suggestion is offered, compute in the background the one that follows it, so accepting "
        "it shows the next at once (needs cache_size > 0).",
    )


class ContextSettings(ContextOptions):
    """Repository context: the engine's tuning (``ContextOptions``) plus whether and how much of it to use."""

    enabled: bool = Field(
        True, description="Add repository context (definitions, similar code, recent edits) to the prompt."
    )
    budget_tokens: int = Field(
        1024, ge=0, le=1_000_000, description="Tokens of repository context per completion prompt."
    )

    @property
    def tokens_per_completion(self) -> int:
        """Tokens of repository context a completion prompt gets: none while context is off."""
        return self.budget_tokens if self.enabled else 0


class PrivacySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    local_only: bool = Field(
        False,
        description="Guarantee that no request leaves this machine: the remote backend is refused unless its "
        "base_url is a loopback address (127.0.0.1, ::1, localhost).",
    )
    secret_files: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SECRET_FILES),
        description="Gitignore-style patterns (without '/': at any depth) of files that are never indexed, "
        "completed in, used as context, read by the agent or sent to a model (keys, credentials, .env files).",
    )


class ServerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: BackendSettings = Field(default_factory=BackendSettings, description="Which model serves completions.")
    completion: CompletionSettings = Field(
        default_factory=CompletionSettings, description="Inline completion behaviour."
    )
    context: ContextSettings = Field(default_factory=ContextSettings, description="Repository context.")
    actions: ActionsSettings = Field(
        default_factory=ActionsSettings, description="Code actions (Refactor with Qwen, Explain, ...)."
    )
    agent: AgentSettings = Field(
        default_factory=AgentSettings, description="The agentic refactor (qwen.agentRefactor)."
    )
    privacy: PrivacySettings = Field(default_factory=PrivacySettings, description="What never leaves the machine.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Server log level (stderr and the editor's log)."
    )


ENV_PREFIX = "QWEN_LSP_"


def env_overrides(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """``QWEN_LSP_BACKEND__LOCAL__MODEL=x`` → ``{"backend": {"local": {"model": "x"}}}``. Values stay strings;
    pydantic converts them."""
    environ = dict(os.environ if environ is None else environ)
    result: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if path[0] not in ServerSettings.model_fields:
            continue  # other QWEN_LSP_* variables (API keys, models dir) are not settings
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[path[-1]] = _parse_env_value(value)
    return result


def _parse_env_value(value: str) -> Any:
    if value.startswith(("[", "{")):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(*sources: dict[str, Any] | None) -> tuple[ServerSettings, list[str]]:
    """Merge the sources (later wins) and validate. Returns the settings and one warning per invalid field;
    each invalid field falls back to its default."""
    raw: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, dict):
            raw = merge(raw, _normalise_keys(source))
    warnings: list[str] = []
    for _ in range(50):  # each pass removes at least one bad field
        try:
            return ServerSettings.model_validate(raw), warnings
        except ValidationError as error:
            for problem in error.errors():
                location = [str(p) for p in problem["loc"]]
                warnings.append(f"Invalid setting {'.'.join(location)}: {problem['msg']} — using the default.")
                _remove_path(raw, problem["loc"])
    return ServerSettings(), warnings + ["Settings could not be read; using all defaults."]


def _normalise_keys(value: Any) -> Any:
    """Editors send camelCase (``debounceMs``); the models use snake_case."""
    if isinstance(value, dict):
        return {_snake(str(k)): _normalise_keys(v) for k, v in value.items()}
    return value


def _snake(name: str) -> str:
    out = []
    for char in name:
        if char.isupper():
            out.append("_" + char.lower())
        else:
            out.append(char)
    return "".join(out).lstrip("_")


def _remove_path(raw: dict[str, Any], location: tuple[Any, ...]) -> None:
    node: Any = raw
    for part in location[:-1]:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and part < len(node)
        ):
            node = node[part]
        else:
            return
    last = location[-1] if location else None
    if isinstance(node, dict) and last in node:
        node.pop(last)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        del node[last]
    elif location:
        _remove_path(raw, location[:-1])
