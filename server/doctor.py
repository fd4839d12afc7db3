"""``qwen-lsp doctor``: check the installation and say what to do about each problem."""

from __future__ import annotations

import importlib.metadata
import sys
import urllib.request

from .config import env_overrides, load_settings

OK, WARN, FAIL = "ok  ", "warn", "FAIL"


def run_doctor() -> int:
    settings, warnings = load_settings(env_overrides())
    checks: list[tuple[str, str, str]] = []
    for warning in warnings:
        checks.append((WARN, "settings", warning))
    checks.append(_python())
    checks.extend(_llama())
    if settings.backend.kind == "local":
        checks.append(_model(settings.backend.local.model))
    else:
        checks.append(_endpoint(settings.backend.remote.base_url))
    for status, name, message in checks:
        print(f"[{status}] {name}: {message}")
    return 1 if any(status == FAIL for status, _, _ in checks) else 0


def _python() -> tuple[str, str, str]:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < (3, 11):
        return FAIL, "python", f"{version}; qwen-lsp needs Python 3.11 or newer"
    return OK, "python", f"{version} ({sys.executable})"


def _llama() -> list[tuple[str, str, str]]:
    try:
        version = importlib.metadata.version("llama-cpp-python")
        import llama_cpp
    except Exception as error:
        return [(WARN, "llama-cpp-python", f"not usable ({error}); local models need `pip install 'qwen-lsp[local]'`")]
    gpu = bool(getattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)())
    gpu_note = "GPU offload supported" if gpu else (
        "CPU only; for a GPU reinstall with CMAKE_ARGS=\"-DGGML_CUDA=on\" (or -DGGML_METAL=on) "
        "pip install --force-reinstall --no-cache-dir llama-cpp-python"
    )
    return [(OK, "llama-cpp-python", f"{version}; {gpu_note}")]


def _model(name: str) -> tuple[str, str, str]:
    try:
        from qwen_lsp.clients.models import resolve_model

        path = resolve_model(name)
    except Exception as error:
        return FAIL, "model", str(error)
    return OK, "model", f"{name} → {path}"


def _endpoint(base_url: str) -> tuple[str, str, str]:
    url = base_url.rstrip("/") + "/models"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return OK, "endpoint", f"{url} answered {response.status}"
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            return WARN, "endpoint", f"{url} is up but refused the request ({error.code}): check the API key variable"
        return WARN, "endpoint", f"{url} answered {error.code}"
    except Exception as error:
        return FAIL, "endpoint", f"{url} unreachable ({error}); check backend.remote.base_url and that the server runs"
