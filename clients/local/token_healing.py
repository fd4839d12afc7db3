"""Token healing: the model, not the cursor, decides where the last token of the typed text ends.

A prompt that ends in user text (the typed part of the cursor's line, after the FIM middle marker) ends in a token
cut where the user stopped typing: ``"    "`` or ``"    ret"`` tokenised alone end in tokens that training text
rarely continues (``" return"`` carries its space; ``"return"`` is one token). As llama.cpp's server does, the last
token is backed off and the first generated tokens are constrained to spell it out again; the backend then drops
that re-spelt text from what it emits.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from ..base import Prompt


class TokenTexts:
    """The bytes of every token of a vocabulary (empty for control tokens), indexed for prefix queries."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        order = sorted((piece, token) for token, piece in enumerate(pieces) if piece)
        self._sorted = [piece for piece, _ in order]
        self._sorted_ids = np.array([token for _, token in order], dtype=np.intc)
        self._exact: dict[bytes, list[int]] = defaultdict(list)
        for token, piece in enumerate(pieces):
            if piece:
                self._exact[piece].append(token)

    @classmethod
    def of(cls, n_vocab: int, detokenize: Callable[[list[int]], bytes]) -> TokenTexts:
        return cls([detokenize([token]) for token in range(n_vocab)])

    def allowed(self, remaining: bytes) -> np.ndarray:
        """Tokens that can come next when the output must continue with ``remaining``: those that start with
        all of it, and those that spell a part of its start."""
        lo = bisect.bisect_left(self._sorted, remaining)
        hi = bisect.bisect_left(self._sorted, _successor(remaining)) if _successor(remaining) else len(self._sorted)
        starts = self._sorted_ids[lo:hi]
        parts = [token for end in range(1, len(remaining)) for token in self._exact.get(remaining[:end], ())]
        return np.concatenate([starts, np.array(parts, dtype=np.intc)]) if parts else starts


def _successor(prefix: bytes) -> bytes:
    """The smallest byte string greater than every string that starts with ``prefix`` (b"" if none)."""
    stripped = prefix.rstrip(b"\xff")
    return stripped[:-1] + bytes([stripped[-1] + 1]) if stripped else b""


def back_off(tokens: list[int], healable_from: int, texts: TokenTexts) -> tuple[list[int], str]:
    """``tokens`` without its last token when that token is user text (index ≥ ``healable_from``) that decodes on
    its own; the removed token's text ("" when nothing is healed)."""
    if len(tokens) <= max(healable_from, 1):
        return tokens, ""
    piece = texts.pieces[tokens[-1]]
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:  # a part of a multi-byte character: leave it
        return tokens, ""
    return (tokens[:-1], text) if text else (tokens, "")


def prompt_tokens(llm: Any, prompt: Prompt) -> tuple[list[int], int]:
    """Token ids of ``prompt`` as the local backend evaluates it (markers as control tokens; user text never is,
    even if it contains marker text), and where a final user-text piece starts (``len(tokens)`` when the prompt
    ends in a marker): the tokens ``back_off`` may heal."""
    ids: list[int] = []
    healable_from = 0
    for piece in prompt.pieces:
        if piece.text:
            start = len(ids)
            ids += llm.tokenize(piece.text.encode(), add_bos=False, special=piece.control)
            healable_from = len(ids) if piece.control else start
    return ids, healable_from


class HealingProcessor:
    """A llama-cpp-python logits processor: until the generated tokens spell ``healed``, only tokens that keep
    them on that path may be sampled."""

    def __init__(self, texts: TokenTexts, healed: str, prompt_tokens: int) -> None:
        self.texts = texts
        self.healed = healed.encode("utf-8")
        self.prompt_tokens = prompt_tokens

    def remaining(self, generated: np.ndarray | list[int]) -> bytes:
        remaining = self.healed
        for token in generated:
            piece = self.texts.pieces[int(token)]
            if not remaining.startswith(piece):
                return b""  # this token spelt the rest and went on
            remaining = remaining[len(piece) :]
            if not remaining:
                break
        return remaining

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        remaining = self.remaining(input_ids[self.prompt_tokens :])
        if not remaining:
            return scores
        keep = self.texts.allowed(remaining)
        if keep.size == 0:
            return scores
        constrained = np.full_like(scores, -np.inf)
        constrained[keep] = scores[keep]
        return constrained


class DropPrefix:
    """Forwards streamed text to ``emit`` without its first ``prefix`` characters (the healed text)."""

    def __init__(self, prefix: str, emit: Callable[[str], None]) -> None:
        self.prefix = prefix
        self.emit = emit
        self._pending = ""

    def __call__(self, text: str) -> None:
        if not self.prefix:
            self.emit(text)
            return
        self._pending += text
        if len(self._pending) < len(self.prefix) and self.prefix.startswith(self._pending):
            return
        pending, prefix = self._pending, self.prefix
        self._pending, self.prefix = "", ""
        rest = pending[len(prefix) :] if pending.startswith(prefix) else pending
        if rest:
            self.emit(rest)
