"""Loading a GGUF model into llama.cpp from ``LocalSettings``.

Owns: reading the GGUF header (architecture, native context, experts), the load plan (GPU layers, flash
attention, YaRN context extension, experts kept on the CPU), and the llama.cpp details the high-level
``llama_cpp.Llama`` does not expose — load progress and ``tensor_buft_overrides`` — which are set through the
low-level model parameters. llama.cpp's own log goes to Python logging, never to stdout.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import functools
import io
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, SupportsInt

from ..base import BackendError
from ..models.gguf_header import GgufFormatError, read_scalars
from ..settings import LocalSettings

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)
llama_log = logging.getLogger("qwen_lsp.llama_cpp")

# llama.cpp's --cpu-moe pattern: the routed expert weights, the bulk of a MoE model.
EXPERT_TENSOR_PATTERN = r"\.ffn_(up|down|gate|gate_up)_exps"
ROPE_SCALING_NONE, ROPE_SCALING_YARN = 0, 2  # llama_rope_scaling_type
_PATCH_LOCK = threading.Lock()
_log_callback: Any = None  # keeps the ctypes callback alive for the life of the process
recent_errors: collections.deque[str] = collections.deque(maxlen=3)


@dataclass(frozen=True)
class GgufInfo:
    """What the loader needs from a GGUF header before handing the file to llama.cpp."""

    path: Path
    architecture: str
    context_length: int | None
    expert_count: int
    name: str = ""
    file_type: int | None = None  # general.file_type: the quantisation


@dataclass
class LoadPlan:
    """Everything decided before loading: keyword arguments for ``Llama`` plus the low-level extras."""

    llama_kwargs: dict[str, Any]
    expert_override_pattern: str | None = None
    repack: bool = True  # llama_model_params.use_extra_bufts
    notes: list[str] = field(default_factory=list)


def resolve_model_path(model: str) -> Path:
    """A .gguf path as given, or a preset name resolved in the models directory."""
    candidate = Path(model).expanduser()
    if candidate.suffix == ".gguf" or candidate.is_absolute() or candidate.exists():
        if not candidate.is_file():
            raise BackendError(
                f"model file {candidate} does not exist. Set backend.local.model to an existing .gguf file "
                "or to a preset name (`qwen-lsp model list`)."
            )
        return candidate
    try:
        from ..models.files import resolve_model
    except ImportError as exc:  # model presets not available in this build
        raise BackendError(f"unknown model {model!r}: give backend.local.model as a .gguf path") from exc
    return resolve_model(model)


def read_gguf_info(path: Path) -> GgufInfo:
    """Read the header of a GGUF file; a file that is not a complete GGUF model raises BackendError."""
    try:
        fields = read_scalars(path)
        arch = str(fields["general.architecture"])
    except (GgufFormatError, KeyError, OSError) as exc:
        raise BackendError(
            f"{path} is not a valid GGUF model file ({exc}). It may be truncated or corrupt: download it again "
            "(`qwen-lsp model pull NAME`) or point backend.local.model at another .gguf file."
        ) from exc

    def number(key: str) -> int | None:
        value = fields.get(key)
        if not isinstance(value, (SupportsInt, str, bytes)):
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    return GgufInfo(
        path=path,
        architecture=arch,
        context_length=number(f"{arch}.context_length"),
        expert_count=number(f"{arch}.expert_count") or 0,
        name=str(fields.get("general.name", "")),
        file_type=number("general.file_type"),
    )


def plan_load(
    settings: LocalSettings, info: GgufInfo, gpu_offload_supported: bool, repack_safe: bool = True
) -> LoadPlan:
    """Decide the llama.cpp parameters for this model on this build (pure: no llama.cpp calls).
    ``repack_safe`` is what ``cpu_probe.repack_is_safe`` found, used when ``settings.repack`` is "auto"."""
    notes: list[str] = []
    n_threads = settings.n_threads or min(4, os.cpu_count() or 1)
    n_gpu_layers = settings.n_gpu_layers if gpu_offload_supported else 0
    if settings.n_gpu_layers != 0 and not gpu_offload_supported:
        notes.append("this llama.cpp build has no GPU support: running on the CPU")
    flash_attn = n_gpu_layers != 0 if settings.flash_attn == "auto" else bool(settings.flash_attn)
    kwargs: dict[str, Any] = {
        "n_ctx": settings.n_ctx,
        "n_batch": settings.n_batch,
        "n_ubatch": settings.n_batch,
        "n_threads": n_threads,
        "n_threads_batch": n_threads,
        "n_gpu_layers": n_gpu_layers,
        "flash_attn": flash_attn,
    }
    native = info.context_length
    wants_yarn = settings.rope_scaling == "yarn" or (
        settings.rope_scaling == "auto" and native is not None and settings.n_ctx > native
    )
    if wants_yarn and native:
        factor = max(1.0, settings.n_ctx / native)
        kwargs.update(rope_scaling_type=ROPE_SCALING_YARN, rope_freq_scale=1.0 / factor, yarn_orig_ctx=native)
        notes.append(f"YaRN context extension x{factor:.2f} (native context {native})")
    elif settings.rope_scaling == "none":
        kwargs["rope_scaling_type"] = ROPE_SCALING_NONE
    pattern = None
    if settings.cpu_moe and info.expert_count > 0:
        if n_gpu_layers != 0:
            pattern = EXPERT_TENSOR_PATTERN
            notes.append("MoE expert tensors kept in CPU memory")
        else:
            notes.append("cpu_moe has no effect without GPU offload")
    repack = repack_safe if settings.repack == "auto" else settings.repack
    if not repack:
        notes.append("CPU weight repacking off")
    return LoadPlan(llama_kwargs=kwargs, expert_override_pattern=pattern, repack=repack, notes=notes)


def install_log_routing() -> None:
    """Send llama.cpp's log lines to Python logging (debug level), replacing llama-cpp-python's stderr printer."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]  # a ctypes callback type
    def route(level: int, text: bytes, _user_data: Any) -> None:
        line = text.decode("utf-8", errors="replace").rstrip()
        if not line:
            return
        # ggml levels: 1 debug, 2 info, 3 warn, 4 error, 5 continuation. Warnings include expected events (a
        # cancelled decode rolls back its cache entries); failures surface as exceptions, whose message then
        # gets the recent error lines.
        if level == 4:
            recent_errors.append(line)
        llama_log.log(logging.INFO if level == 4 else logging.DEBUG, "%s", line)

    _log_callback = route
    llama_cpp.llama_log_set(route, ctypes.c_void_p(0))


class _BuftOverride(ctypes.Structure):
    # struct llama_model_tensor_buft_override { const char * pattern; ggml_backend_buffer_type_t buft; };
    _fields_ = [("pattern", ctypes.c_char_p), ("buft", ctypes.c_void_p)]


def _cpu_buffer_type() -> int:
    from llama_cpp import _ggml

    lib = _ggml.libggml
    lib.ggml_backend_dev_by_type.argtypes = [ctypes.c_int]
    lib.ggml_backend_dev_by_type.restype = ctypes.c_void_p
    lib.ggml_backend_dev_buffer_type.argtypes = [ctypes.c_void_p]
    lib.ggml_backend_dev_buffer_type.restype = ctypes.c_void_p
    device = lib.ggml_backend_dev_by_type(0)  # GGML_BACKEND_DEVICE_TYPE_CPU
    buft = lib.ggml_backend_dev_buffer_type(device) if device else None
    if not buft:
        raise BackendError("cpu_moe: llama.cpp reports no CPU buffer type; turn backend.local.cpu_moe off")
    return int(buft)


def expert_overrides(pattern: str) -> ctypes.Array[_BuftOverride]:
    """A NULL-terminated override list placing tensors matching ``pattern`` in CPU memory."""
    overrides = (_BuftOverride * 2)()
    overrides[0].pattern = pattern.encode()
    overrides[0].buft = _cpu_buffer_type()
    return overrides


@contextlib.contextmanager
def _extra_model_params(
    progress: Callable[[float], bool], overrides: ctypes.Array[Any] | None, repack: bool
) -> Iterator[None]:
    """``Llama.__init__`` starts from ``llama_model_default_params()`` and only sets the fields it knows;
    wrapping that call for the duration of one load is how progress, tensor overrides and repacking get in."""
    import llama_cpp.llama_cpp as low

    def on_progress(value: float, _user_data: Any) -> bool:
        try:
            return bool(progress(value))
        except Exception:  # an exception cannot cross into C; keep loading
            log.exception("load progress callback failed")
            return True

    callback = low.llama_progress_callback(on_progress)
    original = low.llama_model_default_params

    def with_extras() -> Any:
        params = original()
        params.progress_callback = callback
        params.use_extra_bufts = repack
        if overrides is not None:
            params.tensor_buft_overrides = ctypes.cast(overrides, ctypes.c_void_p)
        return params

    with _PATCH_LOCK:
        low.llama_model_default_params = with_extras
        try:
            yield
        finally:
            low.llama_model_default_params = original


class _LogWriter(io.TextIOBase):
    """Takes llama-cpp-python's own load-time prints (chat template, system info) off stderr."""

    def write(self, text: str) -> int:
        if text.strip():
            llama_log.debug("%s", text.rstrip())
        return len(text)


@functools.cache
def _marker_text_tokenizer() -> type:
    from llama_cpp.llama_tokenizer import LlamaTokenizer

    class MarkerTextTokenizer(LlamaTokenizer):
        """Generated control tokens come out as their text (``<tool_call>``, ``<|fim_prefix|>``, ...) instead
        of vanishing, so Qwen's tool-call tags reach the parser and stray FIM markers hit the stop strings.
        End-of-generation tokens never reach detokenisation: llama-cpp-python stops before them."""

        def detokenize(self, tokens: list[int], prev_tokens: list[int] | None = None, special: bool = False) -> bytes:
            return self._model.detokenize(tokens, special=True)

    return MarkerTextTokenizer


def load_llama(path: Path, plan: LoadPlan, progress: Callable[[float], bool]) -> Llama:
    """Load the model. ``verbose=True`` on purpose: with verbose=False llama-cpp-python points file
    descriptors 1 and 2 at /dev/null while loading, which would swallow the LSP messages other threads
    write to stdout. Its Python-level prints are captured instead and verbosity is turned off afterwards."""
    from llama_cpp import Llama

    install_log_routing()
    overrides = expert_overrides(plan.expert_override_pattern) if plan.expert_override_pattern else None
    recent_errors.clear()
    try:
        with _extra_model_params(progress, overrides, plan.repack), contextlib.redirect_stderr(_LogWriter()):
            llm = Llama(model_path=str(path), verbose=True, **plan.llama_kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        reason = " / ".join(recent_errors) or str(exc)
        raise BackendError(
            f"llama.cpp could not load {path}: {reason}. Check that the file is a complete GGUF model supported by "
            "llama-cpp-python (see `qwen-lsp doctor`), or download it again with `qwen-lsp model pull NAME`."
        ) from exc
    return _configured(llm)


class _BorrowedModel:
    """The loaded weights as a second context sees them: closing that context leaves them to their owner."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def close(self) -> None:
        pass


def second_context(llm: Llama, path: Path, plan: LoadPlan) -> Llama:
    """Another ``Llama`` (own context, KV cache and batch) on ``llm``'s loaded weights: costs the KV cache and
    compute buffers, not a second copy of the model. Close it before ``llm``."""
    import llama_cpp._internals as internals
    from llama_cpp import Llama

    borrowed = _BorrowedModel(llm._model)
    with _PATCH_LOCK, contextlib.redirect_stderr(_LogWriter()):
        original = internals.LlamaModel
        # Llama.__init__ would load the file again; patched for this one construction
        internals.LlamaModel = lambda **_kwargs: borrowed  # type: ignore[misc, assignment]
        try:
            second = Llama(model_path=str(path), verbose=True, **plan.llama_kwargs)
        finally:
            internals.LlamaModel = original  # type: ignore[misc]
    return _configured(second)


def _configured(llm: Llama) -> Llama:
    llm.verbose = False
    llm.tokenizer_ = _marker_text_tokenizer()(llm)
    if "chat_template.default" in getattr(llm, "_chat_handlers", {}):
        llm.chat_format = "chat_template.default"  # the model's own template renders tools and tool results
    elif llm.chat_format == "llama-2":
        llm.chat_format = "chatml"  # Qwen's format, better than llama-cpp-python's fallback
    return llm
