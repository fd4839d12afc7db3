"""Building the configured backend from ``BackendSettings``."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable

from .base import Backend, BackendStatus
from .remote.local_only import RefusedBackend, is_loopback_url
from .settings import BackendSettings
from .unavailable import UnavailableBackend

LOCAL_PACKAGES = {"llama_cpp": "llama-cpp-python", "gguf": "gguf"}
"""The ``local`` extra: module name -> distribution name."""


def missing_local_packages() -> list[str]:
    """The distributions of the ``local`` extra that cannot be imported (checked without importing them)."""
    return [dist for module, dist in LOCAL_PACKAGES.items() if importlib.util.find_spec(module) is None]


def local_extra_command() -> str:
    """The command that adds the ``local`` extra with the tool that installed qwen-lsp (pipx, ``uv tool``, uv or
    pip). qwen-lsp is not on PyPI, so it names the folder or wheel this install came from (PEP 610's
    direct_url.json) when that is still there."""
    source = "<qwen-lsp checkout or wheel>"
    try:
        distribution = importlib.metadata.distribution("qwen-lsp")
        recorded = distribution.read_text("direct_url.json") or "{}"
        installer = (distribution.read_text("INSTALLER") or "").strip()
        url = urllib.parse.urlparse(str(json.loads(recorded).get("url", "")))
    except (importlib.metadata.PackageNotFoundError, ValueError, AttributeError):
        installer, url = "", urllib.parse.urlparse("")
    if url.scheme == "file" and os.path.exists(path := urllib.request.url2pathname(url.path)):
        source = path
    requirement = f"'{source}[local]'"
    # pipx and `uv tool` keep each tool in a venv of its own, marked by these files; a plain pip there would
    # install into whatever environment is active instead
    if os.path.exists(os.path.join(sys.prefix, "pipx_metadata.json")):
        return f"pipx install --force {requirement}"
    if os.path.exists(os.path.join(sys.prefix, "uv-receipt.toml")):
        return f"uv tool install --reinstall {requirement}"
    if installer == "uv":
        return f"uv pip install --python {sys.executable} {requirement}"
    return f"pip install {requirement}"


def create_backend(
    settings: BackendSettings, on_status: Callable[[BackendStatus], None] | None = None, local_only: bool = False
) -> Backend:
    """The backend for ``settings.kind``. Nothing is loaded or contacted until ``ensure_ready()``;
    ``on_status`` hears every status change (on the event loop's thread). Without the ``local`` extra a local
    backend is an ``UnavailableBackend`` whose every use says what to install. With ``local_only`` a remote
    endpoint off this machine is refused (``local_only.RefusedBackend``)."""
    if settings.kind == "remote":
        if local_only and not is_loopback_url(settings.remote.base_url):
            return RefusedBackend(settings.remote.base_url, on_status)
        from .remote.backend import OpenAICompatBackend

        return OpenAICompatBackend(settings.remote, on_status)
    missing = missing_local_packages()
    if missing:
        return UnavailableBackend(
            settings.local.model,
            f"the local backend needs {' and '.join(missing)}, which are not installed: "
            f'`{local_extra_command()}` (see the README for GPU builds), or set backend.kind to "remote"',
        )
    from .local.backend import LocalLlamaBackend

    return LocalLlamaBackend(settings.local, on_status)
