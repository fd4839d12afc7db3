"""Fill-in-the-middle prompt formats per model family, as data.

Each family names its marker tokens, the order of the pieces (prefix-suffix-middle or
suffix-prefix-middle), the optional repository-level markers, and the strings that end a completion.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FimTemplate:
    family: str
    prefix_marker: str
    suffix_marker: str
    middle_marker: str
    order: Literal["psm", "spm"] = "psm"
    repo_name_marker: str | None = None
    file_sep_marker: str | None = None
    stop: tuple[str, ...] = ()

    @property
    def markers(self) -> tuple[str, ...]:
        extra = (self.repo_name_marker, self.file_sep_marker)
        return (self.prefix_marker, self.suffix_marker, self.middle_marker) + tuple(m for m in extra if m)


QWEN = FimTemplate(
    family="qwen",
    prefix_marker="<|fim_prefix|>",
    suffix_marker="<|fim_suffix|>",
    middle_marker="<|fim_middle|>",
    repo_name_marker="<|repo_name|>",
    file_sep_marker="<|file_sep|>",
    stop=("<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>", "<|fim_prefix|>", "<|repo_name|>"),
)
STARCODER2 = FimTemplate(
    family="starcoder2",
    prefix_marker="<fim_prefix>",
    suffix_marker="<fim_suffix>",
    middle_marker="<fim_middle>",
    repo_name_marker="<repo_name>",
    file_sep_marker="<file_sep>",
    stop=("<|endoftext|>", "<file_sep>", "<fim_prefix>", "<repo_name>"),
)
DEEPSEEK_CODER = FimTemplate(
    family="deepseek-coder",
    prefix_marker="<｜fim▁begin｜>",
    suffix_marker="<｜fim▁hole｜>",
    middle_marker="<｜fim▁end｜>",
    stop=("<｜end▁of▁sentence｜>", "<|EOT|>", "<｜fim▁begin｜>"),
)
CODELLAMA = FimTemplate(
    family="codellama", prefix_marker="<PRE> ", suffix_marker=" <SUF>", middle_marker=" <MID>", stop=("<EOT>", "</s>")
)
CODESTRAL = FimTemplate(
    family="codestral",
    prefix_marker="[PREFIX]",
    suffix_marker="[SUFFIX]",
    middle_marker="",
    order="spm",
    stop=("</s>", "[PREFIX]", "[SUFFIX]"),
)

TEMPLATES: dict[str, FimTemplate] = {t.family: t for t in (QWEN, STARCODER2, DEEPSEEK_CODER, CODELLAMA, CODESTRAL)}


def template_by_name(name: str) -> FimTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise ValueError(f"unknown FIM template {name!r}; known: {', '.join(sorted(TEMPLATES))}") from None


def detect_template(vocabulary: Iterable[str]) -> FimTemplate | None:
    """The family whose FIM markers all appear in a model's vocabulary, or None (the model cannot infill)."""
    vocab = set(vocabulary)
    for template in TEMPLATES.values():
        needed = [m.strip() for m in (template.prefix_marker, template.suffix_marker, template.middle_marker) if m]
        if all(m in vocab for m in needed):
            return template
    return None
