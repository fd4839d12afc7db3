"""Is llama.cpp's CPU weight repacking safe on this machine?

Repacked layouts use Intel AMX where the CPU advertises it; some virtual machines advertise AMX but trap its
instructions, and "Illegal instruction" kills the whole process (the language server with it). Where AMX is
advertised, a two-token generation is tried once in a child process; the answer is remembered per llama.cpp build,
CPU and model file type.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import platformdirs

log = logging.getLogger(__name__)

_PROBE = """
import sys
import llama_cpp.llama_cpp as low
from llama_cpp import Llama
llm = Llama(sys.argv[1], n_ctx=128, n_threads=1, n_gpu_layers=0, verbose=False)
llm.create_completion("def f():", max_tokens=2)
"""


def cpu_flags() -> set[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def repack_is_safe(model: Path, file_type: int | None) -> bool:
    """True unless repacking was seen (or is now seen) to kill a process on this machine."""
    flags = cpu_flags()
    if not any(flag.startswith("amx") for flag in flags):
        return True  # the trap seen in the wild is AMX; without it there is nothing to fear
    key = _cache_key(flags, file_type)
    cache = _cache_path()
    known = _read_cache(cache)
    if key in known:
        return bool(known[key])
    log.info("checking once whether llama.cpp's AMX weight repacking runs on this CPU (child process)")
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(model)], capture_output=True, timeout=600)
        safe = done.returncode == 0
    except subprocess.TimeoutExpired:
        safe = False
    if not safe:
        log.warning("llama.cpp's CPU weight repacking crashes here (AMX trapped?): loading with repack off")
    known[key] = safe
    _write_cache(cache, known)
    return safe


def _cache_key(flags: set[str], file_type: int | None) -> str:
    import llama_cpp

    library = Path(llama_cpp.__file__).parent / "lib"
    builds = sorted(f"{p.name}:{p.stat().st_size}" for p in library.glob("libggml-cpu*")) if library.is_dir() else []
    material = json.dumps([llama_cpp.__version__, builds, sorted(flags), file_type])
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def _cache_path() -> Path:
    root = os.environ.get("QWEN_LSP_CACHE_DIR") or platformdirs.user_cache_dir("qwen-lsp")
    return Path(root) / "repack-probe.json"


def _read_cache(path: Path) -> dict[str, bool]:
    try:
        data = json.loads(path.read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, data: dict[str, bool]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    except OSError as error:
        log.debug("cannot remember the repack probe result: %s", error)
