"""The tiny test model writer: deterministic, Qwen-shaped vocabulary, loads and generates in llama.cpp."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_extra import require_local_extra

require_local_extra()
# after the skip above: gguf comes with the local extra
from gguf import GGUFReader  # noqa: E402

from tiny_gguf import FIM_TOKENS, TOKEN_CONTROL, write_tiny_qwen_gguf  # noqa: E402


def _tokens(path: Path) -> dict[str, int]:
    reader = GGUFReader(path)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    types = reader.fields["tokenizer.ggml.token_type"].contents()
    return dict(zip(tokens, types, strict=True))


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    a = write_tiny_qwen_gguf(tmp_path / "a.gguf", seed=1).read_bytes()
    b = write_tiny_qwen_gguf(tmp_path / "b.gguf", seed=1).read_bytes()
    c = write_tiny_qwen_gguf(tmp_path / "c.gguf", seed=2).read_bytes()
    assert a == b
    assert a != c
    assert 100_000 < len(a) < 1_000_000


@pytest.mark.parametrize("arch", ["qwen3moe", "qwen2"])
def test_header_has_architecture_and_fim_control_tokens(tmp_path: Path, arch: str) -> None:
    path = write_tiny_qwen_gguf(tmp_path / "m.gguf", arch=arch)
    reader = GGUFReader(path)
    assert reader.fields["general.architecture"].contents() == arch
    assert (f"{arch}.expert_count" in reader.fields) == (arch == "qwen3moe")
    tokens = _tokens(path)
    for marker in FIM_TOKENS + ("<|endoftext|>", "<|im_end|>"):
        assert tokens[marker] == TOKEN_CONTROL


def test_no_fim_variant_lacks_the_fim_tokens(tmp_path: Path) -> None:
    tokens = _tokens(write_tiny_qwen_gguf(tmp_path / "m.gguf", fim=False))
    assert not any(marker in tokens for marker in FIM_TOKENS)
    assert "<|im_end|>" in tokens


@pytest.mark.parametrize("arch", ["qwen3moe", "qwen2"])
def test_loads_in_llama_cpp_tokenises_any_bytes_and_generates_ascii(tmp_path: Path, arch: str) -> None:
    from llama_cpp import Llama

    llm = Llama(str(write_tiny_qwen_gguf(tmp_path / "m.gguf", arch=arch)), n_ctx=256, n_threads=1, verbose=False)
    try:
        text = "déf f(x):\n\treturn '✓' \x01"
        ids = llm.tokenize(text.encode(), add_bos=False, special=False)
        assert llm.detokenize(ids).decode() == text
        assert len(llm.tokenize(b"<|fim_prefix|>", add_bos=False, special=True)) == 1
        out = llm.create_completion(ids, max_tokens=24, temperature=0.0)
        generated = out["choices"][0]["text"]
        assert out["usage"]["completion_tokens"] == 24  # never stops by itself
        assert generated and all(ch == "\n" or " " <= ch <= "~" for ch in generated)
    finally:
        llm.close()
