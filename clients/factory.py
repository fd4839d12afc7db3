"""Building the configured backend from ``BackendSettings``."""

from __future__ import annotations

from typing import Callable

from .base import Backend, BackendError, BackendStatus
from .settings import BackendSettings


def create_backend(
    settings: BackendSettings, on_status: Callable[[BackendStatus], None] | None = None
) -> Backend:
    """The backend for ``settings.kind``. Nothing is loaded or contacted until ``ensure_ready()``;
    ``on_status`` hears every status change (on the event loop's thread)."""
    if settings.kind == "remote":
        from .openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(settings.remote, on_status)
    try:
        import llama_cpp  # noqa: F401  (checked here so the error names the missing extra)
    except ImportError as exc:
        raise BackendError(
            "the local backend needs llama-cpp-python: `pip install 'qwen-lsp[local]'` "
            "(see the README for GPU builds), or set backend.kind to \"remote\""
        ) from exc
    from .local_llama import LocalLlamaBackend

    return LocalLlamaBackend(settings.local, on_status)
