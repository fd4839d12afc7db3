"""Tiny random-weight Qwen-style GGUF models for tests (a few hundred KB, load in milliseconds).

The tokenizer is byte-level BPE like Qwen's: all 256 byte tokens, a few merges, and the Qwen special tokens
(FIM, repo and chat markers) as CONTROL tokens. The weights are random but shaped so that greedy decoding only
ever picks printable ASCII tokens: every embedding shares one large component, and the output rows of allowed
tokens point along it while the rows of control, non-ASCII and non-printable tokens point away. So a generation
never stops by itself (tests choose its length) and its text is always valid UTF-8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from local_extra import require_local_extra

require_local_extra()
from gguf import GGUFWriter  # noqa: E402

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Qwen3's thinking templates: the assistant's turn opens <think>, or is given an empty one with thinking off.
THINKING_CHAT_TEMPLATE = CHAT_TEMPLATE.replace(
    "{{ '<|im_start|>assistant\\n' }}",
    "{{ '<|im_start|>assistant\\n' }}"
    "{% if enable_thinking is defined and not enable_thinking %}{{ '<think>\\n\\n</think>\\n\\n' }}"
    "{% else %}{{ '<think>\\n' }}{% endif %}",
)
FIM_TOKENS = ("<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>")
CHAT_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
TOOL_TOKENS = ("<tool_call>", "</tool_call>")  # plain added tokens in Qwen2.5, not control tokens
MERGE_WORDS = ("def", "return", "self", "print", "import", "class", "if", "in", "for", "the", "  ", "    ")

TOKEN_NORMAL, TOKEN_CONTROL, TOKEN_USER_DEFINED = 1, 3, 4
NATIVE_CONTEXT = 4096


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map used by byte-level BPE vocabularies."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
    printable += list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars, strict=True)}


def _vocabulary(fim: bool) -> tuple[list[str], list[int], list[str], set[int]]:
    """Tokens, their types, the merges, and the ids greedy decoding may pick."""
    byte_char = _bytes_to_unicode()
    tokens = [byte_char[b] for b in range(256)]
    types = [TOKEN_NORMAL] * 256
    allowed = {b for b in range(256) if 0x20 <= b < 0x7F or b == 0x0A}
    merges: list[str] = []
    for word in MERGE_WORDS:
        encoded = "".join(byte_char[b] for b in word.encode())
        current = encoded[0]
        for ch in encoded[1:]:
            merged = current + ch
            if merged not in tokens:
                merges.append(f"{current} {ch}")
                allowed.add(len(tokens))
                tokens.append(merged)
                types.append(TOKEN_NORMAL)
            current = merged
    specials = CHAT_TOKENS + (FIM_TOKENS if fim else ())
    for text in specials:
        tokens.append(text)
        types.append(TOKEN_CONTROL)
    for text in TOOL_TOKENS:
        tokens.append(text)
        types.append(TOKEN_USER_DEFINED)
    return tokens, types, merges, allowed


def write_tiny_qwen_gguf(
    path: str | Path,
    arch: Literal["qwen3moe", "qwen2"] = "qwen3moe",
    fim: bool = True,
    seed: int = 0,
    chat_template: str = CHAT_TEMPLATE,
    width: int = 64,
    layers: int = 2,
) -> Path:
    """Write a deterministic random-weight model of the given architecture; ``fim=False`` leaves out the
    FIM/repo tokens (a model that cannot infill). ``width`` and ``layers`` make a slower model (still random)
    for tests that need prompt evaluation to take a while."""
    path = Path(path)
    rng = np.random.default_rng(seed)
    tokens, types, merges, allowed = _vocabulary(fim)
    n_vocab, n_embd, n_head, n_head_kv, head_dim, n_layer = len(tokens), width, 4, 2, width // 4, layers
    n_expert, n_expert_used, n_ff_expert, n_ff = 4, 2, width // 2, width * 2

    def rand(*shape: int, scale: float = 0.02) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    writer = GGUFWriter(str(path), arch)
    writer.add_name(f"tiny-{arch}{'' if fim else '-nofim'}")
    writer.add_file_type(0)  # all F32
    writer.add_context_length(NATIVE_CONTEXT)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_vocab_size(n_vocab)
    if arch == "qwen3moe":
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
        writer.add_expert_count(n_expert)
        writer.add_expert_used_count(n_expert_used)
        writer.add_expert_feed_forward_length(n_ff_expert)
        writer.add_feed_forward_length(n_ff_expert)
    else:
        writer.add_feed_forward_length(n_ff)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)
    writer.add_chat_template(chat_template)

    # One shared embedding component (dimension 0) dominates the residual stream after normalisation;
    # output rows decide by its sign which tokens greedy decoding can ever pick.
    embd = rand(n_vocab, n_embd, scale=0.05)
    embd[:, 0] = 1.0
    output = rand(n_vocab, n_embd, scale=1.0)
    output[:, 0] = [2.0 if i in allowed else -2.0 for i in range(n_vocab)]
    writer.add_tensor("token_embd.weight", embd)
    writer.add_tensor("output_norm.weight", np.ones(n_embd, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for i in range(n_layer):
        blk = f"blk.{i}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(n_embd, dtype=np.float32))
        writer.add_tensor(f"{blk}.attn_q.weight", rand(n_head * head_dim, n_embd))
        writer.add_tensor(f"{blk}.attn_k.weight", rand(n_head_kv * head_dim, n_embd))
        writer.add_tensor(f"{blk}.attn_v.weight", rand(n_head_kv * head_dim, n_embd))
        writer.add_tensor(f"{blk}.attn_output.weight", rand(n_embd, n_head * head_dim))
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(n_embd, dtype=np.float32))
        if arch == "qwen3moe":
            writer.add_tensor(f"{blk}.attn_q_norm.weight", np.ones(head_dim, dtype=np.float32))
            writer.add_tensor(f"{blk}.attn_k_norm.weight", np.ones(head_dim, dtype=np.float32))
            writer.add_tensor(f"{blk}.ffn_gate_inp.weight", rand(n_expert, n_embd, scale=0.5))
            writer.add_tensor(f"{blk}.ffn_gate_exps.weight", rand(n_expert, n_ff_expert, n_embd))
            writer.add_tensor(f"{blk}.ffn_up_exps.weight", rand(n_expert, n_ff_expert, n_embd))
            writer.add_tensor(f"{blk}.ffn_down_exps.weight", rand(n_expert, n_embd, n_ff_expert))
        else:
            writer.add_tensor(f"{blk}.attn_q.bias", rand(n_head * head_dim))
            writer.add_tensor(f"{blk}.attn_k.bias", rand(n_head_kv * head_dim))
            writer.add_tensor(f"{blk}.attn_v.bias", rand(n_head_kv * head_dim))
            writer.add_tensor(f"{blk}.ffn_gate.weight", rand(n_ff, n_embd))
            writer.add_tensor(f"{blk}.ffn_up.weight", rand(n_ff, n_embd))
            writer.add_tensor(f"{blk}.ffn_down.weight", rand(n_embd, n_ff))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
