"""Settings of the single-shot code actions (the ``actions`` section): sampling, thinking mode, prompt sizes.

Sampling defaults are the ones the Qwen coder model cards recommend for instruct use (Qwen2.5-Coder-Instruct and
Qwen3-Coder alike: temperature 0.7, top_p 0.8, top_k 20, repetition penalty 1.05).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qwen_lsp.clients.base import GenerationParams

ActionKindName = Literal["refactor", "explain", "docstring", "fix", "tests"]
ACTION_KINDS: tuple[ActionKindName, ...] = ("refactor", "explain", "docstring", "fix", "tests")


class SamplingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature (0 = greedy, reproducible).")
    top_p: float = Field(
        0.8, gt=0.0, le=1.0, description="Nucleus sampling: keep the smallest token set with this total probability."
    )
    top_k: int = Field(20, ge=0, description="Sample among the k most likely tokens (0 = no limit).")
    repetition_penalty: float = Field(1.05, ge=0.5, le=2.0, description="Penalty on repeated tokens (1.0 = none).")

    def params(
        self, max_tokens: int, stop: tuple[str, ...] = (), thinking: ThinkingSettings | None = None
    ) -> GenerationParams:
        thinking = thinking or ThinkingSettings()  # the model's default: no switch, no budget
        return GenerationParams(
            max_tokens=max_tokens,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=self.top_k,
            repeat_penalty=self.repetition_penalty,
            stop=stop,
            thinking_budget=thinking.budget_tokens if thinking.mode == "on" else None,
            enable_thinking={"on": True, "off": False}.get(thinking.mode),
        )


class ThinkingSettings(BaseModel):
    """For models with a thinking mode (Qwen3 hybrid models). Thinking text is always removed from answers."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["default", "on", "off"] = Field(
        "default",
        description="'on'/'off' switch thinking on or off (Qwen3's /think or /no_think in the request and the chat "
        "template's enable_thinking); 'default' leaves the choice to the model. Models without a thinking mode "
        "are unaffected.",
    )
    budget_tokens: int = Field(
        1024,
        ge=0,
        le=131072,
        description="With mode 'on': tokens the model may think; then its thinking is closed for it and it answers "
        "within max_tokens (Qwen's budget forcing). With 'default', thinking counts against max_tokens.",
    )


def _thinking_defaults() -> dict[ActionKindName, ThinkingSettings]:
    return {kind: ThinkingSettings() for kind in ACTION_KINDS}


class ActionsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="Offer the Qwen code actions (Refactor, Explain, Add docstring, Fix, Write tests)."
    )
    sampling: SamplingSettings = Field(default_factory=SamplingSettings, description="Sampling for code actions.")
    max_tokens: int = Field(
        2048, ge=16, le=65536, description="Most tokens the model may write for one action's answer."
    )
    thinking: dict[ActionKindName, ThinkingSettings] = Field(
        default_factory=_thinking_defaults, description="Thinking mode and budget per action kind."
    )
    default_instruction: str = Field(
        "Improve the readability and structure of this code without changing its behaviour.",
        description="Instruction used by 'Refactor with Qwen…' when the editor does not supply one.",
    )
    max_selection_chars: int = Field(
        16000,
        ge=100,
        description="Longest selection an action accepts; longer ones get a clear error instead of a truncated answer.",
    )
    surrounding_chars: int = Field(
        3000, ge=0, description="Characters of the file before and after the selection shown to the model as context."
    )
    explanations_dir: str = Field(
        "",
        description="Folder for Explain's markdown files (opened with window/showDocument); empty = the user data dir.",
    )

    def thinking_for(self, kind: str) -> ThinkingSettings:
        return self.thinking.get(kind, ThinkingSettings())  # type: ignore[call-overload]
