"""Settings for the model backends: which model, where it runs and how it is loaded or reached.

These models are the ``backend`` section of the server configuration; unknown keys are rejected so a typo
in an editor's settings gives a clear error instead of being silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class LocalSettings(BaseModel):
    """A GGUF model run in-process by llama.cpp."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "qwen2.5-coder-0.5b", description="A model preset name (see `qwen-lsp model list`) or the path of a .gguf file."
    )
    n_ctx: int = Field(
        8192,
        ge=256,
        description="Context window in tokens (prompt + completion). Larger costs memory for the KV cache.",
    )
    n_threads: int | None = Field(
        None, ge=1, description="CPU threads for generation; null means min(4, number of CPUs)."
    )
    n_batch: int = Field(
        512, ge=1, description="Prompt tokens evaluated per step. Smaller steps let a cancelled request stop sooner."
    )
    n_gpu_layers: int = Field(
        -1,
        ge=-1,
        description="Layers to offload to the GPU; -1 means all layers when llama.cpp was built with GPU "
        "support (CUDA, Metal, Vulkan, ...), else none. 0 forces the CPU.",
    )
    flash_attn: bool | Literal["auto"] = Field(
        "auto", description="Flash attention. 'auto' turns it on when layers are offloaded to a GPU and off on the CPU."
    )
    rope_scaling: Literal["auto", "none", "yarn"] = Field(
        "auto",
        description="Context extension. 'auto' uses YaRN only when n_ctx exceeds the model's native context "
        "length (read from the GGUF metadata); 'none' never scales; 'yarn' always does.",
    )
    cpu_moe: bool = Field(
        False,
        description="For mixture-of-experts models (e.g. Qwen3-Coder-30B-A3B): keep the expert tensors in CPU "
        "memory and offload the rest, so a GPU with little VRAM still speeds up attention.",
    )
    repack: bool | Literal["auto"] = Field(
        "auto",
        description="Let llama.cpp use its extra CPU weight layouts (repacked quantized weights, Intel AMX) "
        "where the CPU supports them; false is llama.cpp's --no-repack. 'auto' checks once, in a child process, "
        "that this works where the CPU advertises AMX (virtual machines may trap it with 'Illegal instruction').",
    )
    fim_template: str | None = Field(
        None,
        description="Force a fill-in-the-middle template family (qwen, starcoder2, deepseek-coder, codellama, "
        "codestral); null detects it from the model's vocabulary.",
    )
    chat_context: Literal["separate", "shared"] = Field(
        "separate",
        description="'separate': code actions and agent steps generate in a second llama.cpp context on the same "
        "loaded weights, so completions keep coming while they run (costs a second KV cache of n_ctx tokens); "
        "'shared': one context for everything, a chat and a completion wait for each other.",
    )
    reuse_shifted_cache: bool = Field(
        True,
        description="When the file window's start moves while you type, drop the old start from the KV cache and "
        "shift the rest back instead of evaluating it again (llama.cpp's --cache-reuse; a small approximation).",
    )

    cached_documents: int = Field(
        4,
        ge=0,
        le=64,
        description="KV states of this many other documents' prompts kept in memory besides the live one, so "
        "switching back to a file costs a copy instead of evaluating its prompt again (0: only the live one).",
    )
    cached_documents_mb: int = Field(
        256,
        ge=0,
        description="Memory bound for those saved KV states (about 12 KB per prompt token for the 0.5B model); "
        "the least recently used go first.",
    )


class RemoteSettings(BaseModel):
    """An OpenAI-compatible HTTP endpoint (llama.cpp server, vLLM, Ollama, a hosted API, ...)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        "http://127.0.0.1:8000/v1",
        description="Base URL of the API, including the version path (usually ending in /v1).",
    )
    model: str = Field(
        "", description="Model name sent with each request; empty means the first model the endpoint lists."
    )
    api_key_env: str = Field(
        "QWEN_LSP_API_KEY",
        description="Name of the environment variable holding the API key (the key itself never goes in "
        "settings). Unset or empty means no key is sent.",
    )
    fim_template: str = Field(
        "qwen",
        description="Fill-in-the-middle template the remote model understands; the prompt is sent as raw "
        "text to /v1/completions.",
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="Seconds to wait for a TCP/TLS connection.")
    read_timeout_s: float = Field(
        60.0, gt=0, description="Seconds to wait for the next bytes of a response before giving up."
    )
    max_retries: int = Field(
        2, ge=0, description="Retries with exponential backoff on connection errors, 408/409/429 and 5xx responses."
    )
    extra_body: dict[str, Any] = Field(
        default_factory=dict,
        description='Vendor-specific fields merged into every request body (e.g. {"cache_prompt": true}).',
    )


class BackendSettings(BaseModel):
    """Which backend serves completions, with the settings of each kind."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["local", "remote"] = Field(
        "local", description="'local' runs a GGUF model in-process; 'remote' calls an OpenAI-compatible API."
    )
    local: LocalSettings = Field(default_factory=LocalSettings, description="Settings of the local backend.")
    remote: RemoteSettings = Field(default_factory=RemoteSettings, description="Settings of the remote backend.")
