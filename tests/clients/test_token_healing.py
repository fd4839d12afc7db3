"""Token healing: the last token of typed text is backed off and re-chosen by the model, constrained to spell it.
Pure tests on a small vocabulary; the real Qwen2.5-Coder-0.5B through the local backend."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from model_files import repack_survives, require_real_qwen_05b
from qwen_lsp.clients.base import GenerationParams, Prompt, PromptPiece
from qwen_lsp.clients.local.token_healing import DropPrefix, HealingProcessor, TokenTexts, back_off, prompt_tokens

PIECES = [b"", b"   ", b"    ", b" ", b" return", b" ret", b"urn", b"return", b"x", b"\xe4", b"\xff\xff"]
TEXTS = TokenTexts(PIECES)
ID = {piece: token for token, piece in enumerate(PIECES)}


def test_allowed_tokens_start_with_the_text_or_spell_part_of_it() -> None:
    assert sorted(TEXTS.allowed(b" ret").tolist()) == sorted([ID[b" return"], ID[b" ret"], ID[b" "]])
    assert sorted(TEXTS.allowed(b"    ").tolist()) == sorted([ID[b"    "], ID[b"   "], ID[b" "]])
    assert TEXTS.allowed(b"\xff").tolist() == [ID[b"\xff\xff"]]  # no byte after 0xff: the range runs to the end
    assert TEXTS.allowed(b"q").size == 0


def test_back_off_removes_only_a_final_user_token_that_decodes() -> None:
    assert back_off([8, 1, 5], 1, TEXTS) == ([8, 1], " ret")
    assert back_off([8, 1, 5], 3, TEXTS) == ([8, 1, 5], "")  # the last token is not user text
    assert back_off([8, 9], 1, TEXTS) == ([8, 9], "")  # half of a UTF-8 character
    prompt = Prompt((PromptPiece("<m>", True), PromptPiece("   ret")))
    assert back_off(*prompt_tokens(FakeTokenizer(), prompt), TEXTS) == ([0, 1], " ret")
    assert back_off(*prompt_tokens(FakeTokenizer(), Prompt((PromptPiece("<m>", True),))), TEXTS) == ([0], "")


class FakeTokenizer:
    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[int]:
        return {(b"<m>", True): [0], (b"   ret", False): [1, 5]}[text, special]


def test_the_processor_constrains_until_the_healed_text_is_spelt() -> None:
    processor = HealingProcessor(TEXTS, " ret", prompt_tokens=2)
    scores = np.zeros(len(PIECES), dtype=np.single)
    first = processor(np.array([8, 1]), scores)
    assert set(np.flatnonzero(np.isfinite(first)).tolist()) == {ID[b" return"], ID[b" ret"], ID[b" "]}
    assert processor.remaining([ID[b" "]]) == b"ret"  # " " spelt: "ret" is left
    after_space = processor(np.array([8, 1, ID[b" "]]), scores)
    assert np.flatnonzero(np.isfinite(after_space)).tolist() == [ID[b"return"]]
    assert HealingProcessor(TEXTS, "q", 0)(np.array([]), scores) is scores  # nothing spells it: not stuck
    assert processor(np.array([8, 1, ID[b" return"]]), scores) is scores  # spelt and beyond: free again


def test_drop_prefix_holds_text_until_the_healed_part_is_through() -> None:
    out: list[str] = []
    drop = DropPrefix(" ret", out.append)
    drop(" r")
    assert out == []
    drop("eturn x")
    drop(" + 1")
    assert out == ["urn x", " + 1"]


@pytest.fixture
async def real_backend():
    from qwen_lsp.clients.local.backend import LocalLlamaBackend
    from qwen_lsp.clients.settings import LocalSettings

    path = require_real_qwen_05b()
    backend = LocalLlamaBackend(LocalSettings(model=str(path), n_ctx=2048, n_threads=1, repack=repack_survives(path)))
    await backend.ensure_ready()
    yield backend
    await backend.aclose()


@pytest.mark.real_model
@pytest.mark.parametrize(("typed", "starts"), [("    ret", "urn"), ("    ", "")])
async def test_real_model_continues_a_cut_token(real_backend, typed: str, starts: str) -> None:
    # The typed part of the line ends the prompt (after the middle marker): "ret" and "    " are cut tokens.
    prompt = Prompt(
        (
            PromptPiece("<|fim_prefix|>", True),
            PromptPiece("def fibonacci(n):\n    if n < 2:\n        return n\n"),
            PromptPiece("<|fim_suffix|>", True),
            PromptPiece("\n\nprint(fibonacci(10))\n"),
            PromptPiece("<|fim_middle|>", True),
            PromptPiece(typed),
        )
    )
    chunks = [c async for c in real_backend.stream_fim(prompt, GenerationParams(max_tokens=12), threading.Event())]
    text = "".join(chunks)
    assert text.startswith(starts) and not text[:1].isspace(), text  # no doubled indentation, no split word
    assert "fibonacci(n - 1)" in typed + text or "fibonacci(n-1)" in typed + text, text
