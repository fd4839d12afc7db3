"""KV states of several documents' prompts in one llama.cpp context.

The context holds one prompt at a time (llama-cpp-python's sequence 0). Before a prompt is evaluated, the state
that shares the longest start with it is made live: the live one, or one saved earlier (``llama_state_seq_get_data``
copies of sequence 0 kept in memory). The live state is saved under its document's key before it is replaced by
another document's prompt, so switching back to a file costs a copy instead of evaluating its prompt again.
Saved states are kept for the last few documents, within a memory bound, and dropped on request (the document
changed in a way that makes its state useless, or was closed).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from .kv_reuse import SavedSequence, restore_sequence, save_sequence

log = logging.getLogger(__name__)

MIN_GAIN = 32  # a saved state must save at least this many tokens of evaluation to be restored
MIN_KEEP = 64  # a live state that would lose fewer tokens than this is not worth saving


def shared_start(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the common prefix of two token arrays (vectorised: states hold thousands of tokens)."""
    n = min(len(a), len(b))
    if n == 0:
        return 0
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if differ.size else n


@dataclass
class _Saved:
    key: str
    sequence: SavedSequence

    @property
    def tokens(self) -> np.ndarray:
        return np.asarray(self.sequence.input_ids[: self.sequence.n_tokens])


class DocumentStates:
    """Saved KV states by document key, plus the key of the live one. ``select`` runs on the slot's thread;
    ``forget`` and the estimates may be called from the event loop (a lock guards the table)."""

    def __init__(self, max_documents: int, max_bytes: int) -> None:
        self.max_documents = max_documents
        self.max_bytes = max_bytes
        self.live_key = ""
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._lock = threading.Lock()
        self.restored = 0  # states made live again (for status and benchmarks)

    def select(self, llm: Any, tokens: list[int], key: str) -> None:
        """Make live the state sharing the longest start with ``tokens``, saving the live one first when it
        belongs to another document and would be mostly lost."""
        wanted = np.asarray(tokens, dtype=np.intc)
        n = int(llm.n_tokens)
        live_shared = shared_start(np.asarray(llm.input_ids[:n]), wanted)
        with self._lock:
            best = max(self._saved.values(), key=lambda s: shared_start(s.tokens, wanted), default=None)
            best_shared = shared_start(best.tokens, wanted) if best is not None else 0
        if self.max_documents > 0 and best is not None and best_shared >= live_shared + MIN_GAIN:
            self._save_live(llm)
            with self._lock:
                self._saved.pop(best.key, None)
            restore_sequence(llm, best.sequence)
            self.restored += 1
            log.debug("KV states: restored %s (%d tokens shared)", best.key, best_shared)
        elif key != self.live_key and n - live_shared >= MIN_KEEP:
            self._save_live(llm)
        self.live_key = key

    def _save_live(self, llm: Any) -> None:
        if self.max_documents <= 0 or not self.live_key or int(llm.n_tokens) < MIN_KEEP:
            return
        saved = save_sequence(llm)
        if saved is None:
            return
        with self._lock:
            self._saved[self.live_key] = _Saved(self.live_key, saved)
            self._saved.move_to_end(self.live_key)
            while len(self._saved) > self.max_documents or (self._saved and self._bytes() > self.max_bytes):
                dropped, _ = self._saved.popitem(last=False)
                log.debug("KV states: dropped %s (limit)", dropped)

    def forget(self, document: str) -> int:
        """Drop the saved states of ``document`` (its key, and keys derived from it: ``uri#...``); how many."""
        with self._lock:
            keys = [k for k in self._saved if k == document or k.startswith(document + "#")]
            for key in keys:
                del self._saved[key]
        return len(keys)

    def best_shared(self, llm: Any, tokens: list[int]) -> int:
        """Tokens of ``tokens`` the live or a saved state already holds (an estimate: the live state may change
        while this runs)."""
        wanted = np.asarray(tokens, dtype=np.intc)
        n = int(llm.n_tokens)
        shared = shared_start(np.asarray(llm.input_ids[:n]), wanted)
        with self._lock:
            for saved in self._saved.values():
                shared = max(shared, shared_start(saved.tokens, wanted))
        return shared

    def _bytes(self) -> int:
        return sum(s.sequence.size for s in self._saved.values())

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "live": self.live_key,
                "saved": {k: {"tokens": s.sequence.n_tokens, "bytes": s.sequence.size} for k, s in self._saved.items()},
                "saved_bytes": self._bytes(),
                "restored": self.restored,
            }
