"""Keeping llama.cpp's KV cache useful for completions: after the prompt lost a piece in the middle (the file
window's start moved forward), and across chats (code actions, agent steps) that use the same model.

llama-cpp-python reuses only the common prefix of the previous and the new prompt. When the prefix window of the
current file moves (every few hundred typed characters), the new prompt is the old one without a chunk after the
repository context: everything after that chunk would be evaluated again (tens of seconds on a small CPU). As
llama.cpp's server does with ``--cache-reuse``, the chunk's entries are removed from the KV cache and the rest is
shifted back (RoPE positions are re-rotated), so only the tokens after the longest reused run are evaluated.
The reused entries were computed with the removed chunk still before them: a small approximation, off by
``backend.local.reuse_shifted_cache: false``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .generation_stats import common_prefix

log = logging.getLogger(__name__)

MIN_RUN = 32  # shorter runs are cheaper to evaluate again than to shift


@dataclass(frozen=True)
class Shift:
    keep: int  # tokens kept in place (the common prefix)
    drop_end: int  # old tokens [keep, drop_end) are removed; those after move back by drop_end - keep


def plan_shift(old: list[int], new: list[int], min_run: int = MIN_RUN) -> Shift | None:
    """Where ``new`` continues a later part of ``old`` after their common prefix, for at least ``min_run`` tokens."""
    keep = common_prefix(old, new)
    probe = new[keep : keep + min_run]
    if len(probe) < min_run or keep >= len(old):
        return None
    first = probe[0]
    for start in range(keep + 1, len(old) - min_run + 1):
        if old[start] == first and old[start : start + min_run] == probe:
            return Shift(keep, start)
    return None


def reuse_shifted(llm: Any, tokens: list[int]) -> int:
    """Apply ``plan_shift`` to ``llm``'s KV cache for the prompt ``tokens``; the number of tokens moved (0: none)."""
    import llama_cpp

    n = int(llm.n_tokens)
    old = list(llm.input_ids[:n])
    plan = plan_shift(old, tokens)
    if plan is None:
        return 0
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    if memory is None or not llama_cpp.llama_memory_can_shift(memory):
        return 0
    removed = plan.drop_end - plan.keep
    if not llama_cpp.llama_memory_seq_rm(memory, -1, plan.keep, plan.drop_end):
        return 0
    llama_cpp.llama_memory_seq_add(memory, 0, plan.drop_end, -1, -removed)  # llama-cpp-python uses sequence 0
    llm.input_ids[plan.keep : n - removed] = llm.input_ids[plan.drop_end : n]
    llm.n_tokens = n - removed
    log.debug("KV cache: dropped %d tokens at %d, moved %d back", removed, plan.keep, n - plan.drop_end)
    return n - plan.drop_end


@dataclass(frozen=True)
class SavedSequence:
    data: Any  # ctypes buffer from llama_state_seq_get_data
    size: int
    input_ids: Any
    n_tokens: int


def save_sequence(llm: Any) -> SavedSequence | None:
    """The KV cache of the completion prompt (llama-cpp-python's sequence 0), so a chat in between (a code action,
    an agent step) does not leave the next completion to evaluate its whole prompt again."""
    import ctypes

    import llama_cpp

    n = int(llm.n_tokens)
    if n == 0:
        return None
    size = llama_cpp.llama_state_seq_get_size(llm._ctx.ctx, 0)
    buffer = (ctypes.c_uint8 * size)()
    written = llama_cpp.llama_state_seq_get_data(llm._ctx.ctx, buffer, size, 0)
    return SavedSequence(buffer, int(written), llm.input_ids[:n].copy(), n) if written else None


@contextlib.contextmanager
def sequence_kept(llm: Any) -> Iterator[None]:
    """Whatever runs inside (a chat) leaves the completion prompt's KV cache as it found it."""
    saved = save_sequence(llm)
    try:
        yield
    finally:
        restore_sequence(llm, saved)


def restore_sequence(llm: Any, saved: SavedSequence | None) -> None:
    import llama_cpp

    if saved is None:
        return
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    llama_cpp.llama_memory_seq_rm(memory, 0, -1, -1)
    if llama_cpp.llama_state_seq_set_data(llm._ctx.ctx, saved.data, saved.size, 0) != saved.size:
        log.debug("KV cache: could not restore the completion prompt; the next completion starts cold")
        llm.n_tokens = 0
        return
    llm.input_ids[: saved.n_tokens] = saved.input_ids
    llm.n_tokens = saved.n_tokens
    llm._requires_eval = True  # the logits are of whatever ran last, not of this state's last token
