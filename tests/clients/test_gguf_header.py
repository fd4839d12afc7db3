"""The fast GGUF header reader agrees with the gguf package and refuses broken files."""

from __future__ import annotations

import pytest

from local_extra import require_local_extra

require_local_extra()
# after the skip above: gguf comes with the local extra
from gguf import GGUFReader  # noqa: E402

from qwen_lsp.clients.models.gguf_header import GgufFormatError, read_scalars  # noqa: E402
from tiny_gguf import write_tiny_qwen_gguf  # noqa: E402


def test_scalars_match_the_gguf_package(tmp_path):
    path = write_tiny_qwen_gguf(tmp_path / "tiny.gguf", arch="qwen3moe")
    expected = {
        name: field.contents()
        for name, field in GGUFReader(path).fields.items()
        if not name.startswith("GGUF.") and not isinstance(field.contents(), list)
    }
    assert read_scalars(path) == pytest.approx(expected)
    assert read_scalars(path)["general.architecture"] == "qwen3moe"


@pytest.mark.parametrize("keep", [0, 3, 100, 0.5, 0.99])
def test_truncated_and_foreign_files_are_refused(tmp_path, keep):
    data = write_tiny_qwen_gguf(tmp_path / "tiny.gguf").read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: int(len(data) * keep) if isinstance(keep, float) else keep])
    with pytest.raises(GgufFormatError):
        read_scalars(cut)


def test_not_gguf(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(GgufFormatError, match="magic"):
        read_scalars(path)
