"""Tuning of the repository context engine: what gets indexed and how retrieval is bounded.

Every field has a working default; the server may expose them under its ``context`` settings section.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ContextOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    exclude: list[str] = Field(
        default_factory=list,
        description="Extra gitignore-style patterns of files not to index (on top of .gitignore, .qwenignore and the "
        "built-in excludes: VCS folders, virtualenvs, node_modules, build output).",
    )
    max_file_kb: int = Field(
        1024,
        ge=1,
        le=65536,
        description="Files larger than this are not indexed; open documents larger than this get no repository context and no syntax check.",
    )
    max_files: int = Field(50_000, ge=1, description="At most this many files are indexed per workspace folder.")
    index_processes: int | None = Field(
        None,
        ge=0,
        le=64,
        description="Worker processes for big scans (a first index): null = one per CPU up to 4, "
        "0 = index inside the server process.",
    )
    persist: bool = Field(True, description="Keep the index in the user cache folder so restarts are fast.")
    window_lines: int = Field(16, ge=4, le=200, description="Lines per window for the similar-code search.")
    gather_timeout_ms: float = Field(
        8.0,
        gt=0,
        le=1000,
        description="Time for assembling the context of one completion; each retrieval source "
        "stops when its share is used up.",
    )
    definition_weight: float = Field(1.0, ge=0, description="Weight of definitions of symbols used near the cursor.")
    outline_weight: float = Field(0.7, ge=0, description="Weight of enclosing class/function signatures.")
    similar_weight: float = Field(0.6, ge=0, description="Weight of code similar to the lines before the cursor.")
    recent_weight: float = Field(0.5, ge=0, description="Weight of recently edited ranges and recently opened files.")
    long_window_tokens: int = Field(
        8192,
        ge=1,
        description="Budgets of this many tokens or more (long-context models, refactoring) also get "
        "whole files: the imported ones, then the folder's, then recently opened ones.",
    )
    refresh_delay_ms: float = Field(
        400, ge=0, le=60_000, description="An open document's symbols are re-extracted after typing pauses this long."
    )
