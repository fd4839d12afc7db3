"""Building the configured backend from ``BackendSettings``."""

from __future__ import annotations

from typing import Callable

from .base import Backend, BackendError, BackendStatus
from .local_only import RefusedBackend, is_loopback_url
from .settings import BackendSettings


def create_backend(
    settings: BackendSettings, on_status: Callable[[BackendStatus], None] | None = None, local_only: bool = False
) -> Backend:
    """The backend for ``settings.kind``. Nothing is loaded or contacted until ``ensure_ready()``;
    ``on_status`` hears every status change (on the event loop's thread). With ``local_only`` a remote endpoint
    off this machine is refused (``local_only.RefusedBackend``)."""
    if settings.kind == "remote":
        if local_only and not is_loopback_url(settings.remote.base_url):
            return RefusedBackend(settings.remote.base_url, on_status)
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
