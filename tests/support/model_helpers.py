"""Shared pieces of the model tests: tiny GGUF-like bytes, wheels built on the spot, test presets."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import zipfile
from pathlib import Path

from qwen_lsp.clients.models.files import ModelPreset
from qwen_lsp.clients.models.presets import pypi_mirror

GGUF_BYTES = b"GGUF" + bytes(range(256)) * 40  # 10 kB that look like a GGUF header
SHA = hashlib.sha256(GGUF_BYTES).hexdigest()


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


def local_pip_args(wheel_dir: Path) -> list[str]:
    return ["--no-index", "--find-links", str(wheel_dir)]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
