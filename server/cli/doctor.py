"""``qwen-lsp doctor``: check the installation and say what to do about each problem."""

from __future__ import annotations

import importlib.metadata
import sys
import urllib.request

from qwen_lsp.clients.remote.local_only import is_loopback_url, refusal_message

from ..config import ServerSettings, env_overrides, load_settings

OK, WARN, FAIL = "ok  ", "warn", "FAIL"


def run_doctor() -> int:
    settings, warnings = load_settings(env_overrides())
    checks: list[tuple[str, str, str]] = []
    for warning in warnings:
        checks.append((WARN, "settings", warning))
    checks.append(_python())
    checks.append(_sandbox(settings))
    checks.extend(_local_extra(settings.backend.kind == "local"))
    checks.append(_privacy(settings))
    if settings.backend.kind == "local":
        checks.append(_model(settings.backend.local.model))
        checks.append(_generation(settings))
    elif not settings.privacy.local_only or is_loopback_url(settings.backend.remote.base_url):
        checks.append(_endpoint(settings.backend.remote.base_url))  # not even probed when local_only refuses it
    for status, name, message in checks:
        print(f"[{status}] {name}: {message}")
    return 1 if any(status == FAIL for status, _, _ in checks) else 0


def _privacy(settings: ServerSettings) -> tuple[str, str, str]:
    """Whether anything can leave the machine, and what is kept out of it either way."""
    kept = (
        f"{len(settings.privacy.secret_files)} secret-file patterns and ignored files are never sent; "
        "credential-like values are redacted from remote requests"
    )
    url = settings.backend.remote.base_url
    remote = settings.backend.kind == "remote"
    if settings.privacy.local_only:
        if remote and not is_loopback_url(url):
            return FAIL, "privacy", refusal_message(url)
        where = f"the endpoint {url} is on this machine" if remote else "the local model"
        return OK, "privacy", f"local_only on: no request leaves this machine ({where}); {kept}"
    where = f"code goes to {url}" if remote else "the local model sends nothing"
    return OK, "privacy", f"local_only off ({where}); {kept}"


def _python() -> tuple[str, str, str]:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < (3, 11):  # noqa: UP036 - a checkout can be run by any interpreter
        return FAIL, "python", f"{version}; qwen-lsp needs Python 3.11 or newer"
    return OK, "python", f"{version} ({sys.executable})"


def _sandbox(settings: ServerSettings) -> tuple[str, str, str]:
    """Which protection agent commands (and the test command) on staged code get."""
    from ..agent.isolation import configured_sandbox

    status = configured_sandbox(settings.agent.sandbox)
    if status.active:
        return (
            OK,
            "agent sandbox",
            (
                f"{status.detail}: agent commands run in a workspace copy with no network, a read-only system, "
                "a private home and temp folder and an allowlisted environment"
            ),
        )
    if settings.agent.allow_unsandboxed_commands:
        return (
            WARN,
            "agent sandbox",
            (f"none ({status.detail}); agent.allow_unsandboxed_commands is on, so agent commands run unconfined"),
        )
    return WARN, "agent sandbox", f"none ({status.detail}); the agent asks before each command it runs"


def _local_extra(needed: bool) -> list[tuple[str, str, str]]:
    """What of the ``local`` extra is installed: llama-cpp-python (with GPU offload or not) and gguf."""
    from qwen_lsp.clients.factory import LOCAL_PACKAGES, local_extra_command, missing_local_packages

    missing = missing_local_packages()
    if missing:
        what = f"not installed ({', '.join(missing)} missing)"
        if needed:
            return [(FAIL, "local extra", f"{what}; backend.kind is local: `{local_extra_command()}`")]
        return [(OK, "local extra", f"{what}; only local models need it (`{local_extra_command()}`)")]
    versions = ", ".join(f"{dist} {importlib.metadata.version(dist)}" for dist in LOCAL_PACKAGES.values())
    try:
        import llama_cpp
    except Exception as error:  # installed but its shared library does not load
        return [(FAIL if needed else WARN, "local extra", f"{versions}; llama_cpp does not load ({error})")]
    gpu = bool(getattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)())
    gpu_note = (
        "GPU offload supported"
        if gpu
        else (
            'CPU only; for a GPU reinstall with CMAKE_ARGS="-DGGML_CUDA=on" (or -DGGML_METAL=on) '
            "pip install --force-reinstall --no-cache-dir llama-cpp-python"
        )
    )
    return [(OK, "local extra", f"installed: {versions}; {gpu_note}")]


def _model(name: str) -> tuple[str, str, str]:
    try:
        from qwen_lsp.clients.models.files import resolve_model

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


_PROBE = """
import asyncio, sys, threading
from qwen_lsp.clients.base import GenerationParams, Prompt, PromptPiece
from qwen_lsp.clients.local.backend import LocalLlamaBackend
from qwen_lsp.clients.settings import LocalSettings

async def main():
    backend = LocalLlamaBackend(LocalSettings.model_validate_json(sys.argv[1]))
    await backend.ensure_ready()
    template = await backend.fim_template()
    prompt = Prompt((PromptPiece(template.prefix_marker, True), PromptPiece("def add(a, b):"),
                     PromptPiece(template.suffix_marker, True), PromptPiece(template.middle_marker, True)))
    async for _ in backend.stream_fim(prompt, GenerationParams(max_tokens=2), threading.Event()):
        pass
    await backend.aclose()

asyncio.run(main())
"""


def _generation(settings) -> tuple[str, str, str]:
    """Generate two tokens in a child process: a build for the wrong CPU kills it, not us."""
    import subprocess

    from qwen_lsp.clients.factory import missing_local_packages

    if missing_local_packages():
        return WARN, "generation", "skipped (the local extra is not installed)"
    try:
        from qwen_lsp.clients.models.files import resolve_model

        resolve_model(settings.backend.local.model)
    except Exception:
        return WARN, "generation", "skipped (no model file)"
    local = settings.backend.local.model_copy(update={"n_ctx": 512})
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, local.model_dump_json()], capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        return WARN, "generation", "a 2-token test generation took over 5 minutes"
    if done.returncode == 0:
        return OK, "generation", "a test generation with the local model works"
    if done.returncode in (-4, 132):  # SIGILL
        return (
            FAIL,
            "generation",
            (
                "llama.cpp died with 'Illegal instruction' (its build uses CPU instructions this machine traps, e.g. "
                "Intel AMX on virtual machines). Set backend.local.repack to false, or rebuild portably: "
                'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
                "pip install --force-reinstall --no-cache-dir llama-cpp-python==0.3.36"
            ),
        )
    tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [""]
    return FAIL, "generation", f"a test generation failed (exit {done.returncode}): {tail[0]}"
