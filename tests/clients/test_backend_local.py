"""The local llama.cpp backend on real GGUF files: tiny random-weight Qwen models for the plumbing,
the real Qwen2.5-Coder-0.5B for sensible output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from model_files import fim_prompt, repack_survives, require_real_qwen_05b
from qwen_lsp.clients.base import BackendError, BackendStatus, GenerationParams, Prompt, PromptPiece
from qwen_lsp.clients.local.backend import LocalLlamaBackend
from qwen_lsp.clients.local.loader import load_llama, plan_load, read_gguf_info
from qwen_lsp.clients.settings import LocalSettings
from tiny_gguf import write_tiny_qwen_gguf

pytest.importorskip("llama_cpp")


def make_backend(
    model: Path | str, statuses: list[BackendStatus] | None = None, **overrides: object
) -> LocalLlamaBackend:
    settings = LocalSettings(model=str(model), n_ctx=2048, n_threads=1, n_batch=64, **overrides)
    return LocalLlamaBackend(settings, on_status=statuses.append if statuses is not None else None)


@pytest.fixture(scope="module")
def tiny_moe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_qwen_gguf(tmp_path_factory.mktemp("models") / "tiny-qwen3moe.gguf", arch="qwen3moe")


async def collect(backend: LocalLlamaBackend, prompt: Prompt, max_tokens: int) -> list[str]:
    return [c async for c in backend.stream_fim(prompt, GenerationParams(max_tokens=max_tokens), threading.Event())]


async def test_loads_with_progress_and_detects_the_qwen_template(tiny_moe: Path) -> None:
    statuses: list[BackendStatus] = []
    backend = make_backend(tiny_moe, statuses)
    assert backend.status().state == "idle"
    await backend.ensure_ready()
    try:
        assert statuses[0].state == "loading"
        assert statuses[-1].state == "ready" and backend.status().state == "ready"
        assert any(s.progress is not None and 0 < s.progress < 1 for s in statuses) or len(statuses) >= 2
        assert (await backend.fim_template()).family == "qwen"
    finally:
        await backend.aclose()


async def test_streams_completion_chunks_and_counts_tokens_exactly(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    try:
        chunks = await collect(backend, fim_prompt("def add(a, b):\n    ", "\n"), max_tokens=16)
        assert len(chunks) >= 2 and "".join(chunks)
        assert backend.last_stats.generated_tokens == 16
        assert backend.last_stats.finish_reason == "length"
        # "def" is one merged token in the tiny vocabulary, " " and "q" are byte tokens
        assert (backend.count_tokens("def"), backend.count_tokens("def q"), backend.count_tokens("")) == (1, 3, 0)
    finally:
        await backend.aclose()


async def test_marker_text_in_user_code_is_not_a_control_token(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    await backend.ensure_ready()
    try:
        ids = backend.tokenize_prompt(fim_prompt("s = '<|fim_prefix|>'\n", "<|fim_middle|>"))
        control = backend._llm.tokenize(b"<|fim_prefix|>", add_bos=False, special=True)
        middle = backend._llm.tokenize(b"<|fim_middle|>", add_bos=False, special=True)
        assert len(control) == 1 and len(middle) == 1
        assert ids.count(control[0]) == 1 and ids[0] == control[0]
        assert ids.count(middle[0]) == 1 and ids[-1] == middle[0]
        assert backend.count_tokens("<|fim_prefix|>") > 1
    finally:
        await backend.aclose()


async def test_cancel_stops_generation_within_two_tokens_and_frees_the_model(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    cancel = threading.Event()
    received, at_cancel = 0, 0
    try:
        async for _ in backend.stream_fim(fim_prompt("x = 1\n"), GenerationParams(max_tokens=1900), cancel):
            received += 1
            if received == 5:
                at_cancel = backend.last_stats.generated_tokens
                cancel.set()
        assert received == 5  # nothing is yielded after cancel
        stats = backend.last_stats
        await backend.wait_idle()
        assert stats.finish_reason == "cancelled"
        assert stats.generated_tokens - at_cancel <= 2
        assert stats.generated_tokens < 1900
        assert len(await collect(backend, fim_prompt("y = 2\n"), max_tokens=4)) >= 1  # the model is free again
    finally:
        await backend.aclose()


async def test_closing_the_stream_early_stops_the_worker(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    try:
        stream = backend.stream_fim(fim_prompt("z = 3\n"), GenerationParams(max_tokens=1900), threading.Event())
        async for _ in stream:
            stats = backend.last_stats
            at_close = stats.generated_tokens
            break
        await stream.aclose()
        await backend.wait_idle()
        assert stats.finish_reason == "cancelled"
        assert stats.generated_tokens - at_close <= 2
    finally:
        await backend.aclose()


async def test_aclose_stops_a_running_generation_and_refuses_new_work(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    stream = backend.stream_fim(fim_prompt("v = 5\n"), GenerationParams(max_tokens=1900), threading.Event())
    await anext(stream)
    stats = backend.last_stats
    await backend.aclose()
    assert stats.finish_reason == "cancelled" and stats.generated_tokens < 1900
    assert backend.status().state == "idle"
    with pytest.raises(BackendError, match="closed"):
        await backend.ensure_ready()
    await stream.aclose()


async def test_prompt_extending_the_previous_one_reuses_the_kv_cache(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    try:
        first = "import os\n" * 20
        await collect(backend, fim_prompt(first), max_tokens=2)
        prompt_tokens = backend.last_stats.prompt_tokens
        await collect(backend, Prompt(fim_prompt(first).pieces[:2] + (PromptPiece("print(os)\n"),)), max_tokens=2)
        assert backend.last_stats.cached_tokens >= prompt_tokens - 3  # all of the shared prefix
        assert backend.last_stats.cached_tokens > 20
    finally:
        await backend.aclose()


async def test_model_without_fim_tokens_refuses_fim_but_chats(tmp_path: Path) -> None:
    backend = make_backend(write_tiny_qwen_gguf(tmp_path / "nofim.gguf", fim=False))
    try:
        with pytest.raises(BackendError, match="fill-in-the-middle"):
            await backend.fim_template()
        with pytest.raises(BackendError, match="fill-in-the-middle"):
            await collect(backend, fim_prompt("x"), max_tokens=2)
        reply = await backend.chat([{"role": "user", "content": "hi"}], GenerationParams(max_tokens=8))
        assert reply.content and reply.tool_calls == []
    finally:
        await backend.aclose()


async def test_chat_with_tools_and_history_of_tool_calls_runs(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe)
    no_parameters = {"type": "object", "properties": {}}
    tools = [{"type": "function", "function": {"name": "read_file", "parameters": no_parameters}}]
    messages = [
        {"role": "user", "content": "read a.py"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "x = 1"},
    ]
    try:
        reply = await backend.chat(messages, GenerationParams(max_tokens=6), tools=tools)
        assert backend.last_chat_stats.generated_tokens >= 6 and isinstance(reply.content, str)
        cancel = threading.Event()
        cancel.set()
        cancelled = await backend.chat(messages, GenerationParams(max_tokens=6), cancel=cancel)
        assert cancelled.finish_reason == "cancelled"
    finally:
        await backend.aclose()


async def test_missing_then_corrupt_file_errors_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "later.gguf"
    statuses: list[BackendStatus] = []
    backend = make_backend(path, statuses)
    try:
        with pytest.raises(BackendError, match="does not exist"):
            await backend.ensure_ready()
        assert backend.status().state == "error"
        path.write_bytes(b"GGUF" + bytes(range(256)) * 8)
        with pytest.raises(BackendError, match="not a valid GGUF"):
            await backend.ensure_ready()
        path.write_bytes(write_tiny_qwen_gguf(tmp_path / "good.gguf").read_bytes()[:150_000])  # truncated
        with pytest.raises(BackendError, match=str(path)):
            await backend.ensure_ready()
        write_tiny_qwen_gguf(path)
        await backend.ensure_ready()
        assert backend.status().state == "ready"
        assert [s.state for s in statuses].count("error") == 3
        assert await collect(backend, fim_prompt("a"), max_tokens=3)
    finally:
        await backend.aclose()


async def test_forced_fim_template_is_used_and_a_bad_name_is_a_clear_error(tiny_moe: Path) -> None:
    backend = make_backend(tiny_moe, fim_template="starcoder2")
    bad = make_backend(tiny_moe, fim_template="qwen9")
    try:
        assert (await backend.fim_template()).family == "starcoder2"
        with pytest.raises(BackendError, match=re.escape("backend.local.fim_template: unknown FIM template 'qwen9'")):
            await bad.ensure_ready()
    finally:
        await backend.aclose()
        await bad.aclose()


async def test_qwen2_architecture_also_serves_fim(tmp_path: Path) -> None:
    backend = make_backend(write_tiny_qwen_gguf(tmp_path / "q2.gguf", arch="qwen2"))
    try:
        assert "".join(await collect(backend, fim_prompt("def f():\n"), max_tokens=8))
    finally:
        await backend.aclose()


def test_load_plan_decisions(tiny_moe: Path) -> None:
    info = read_gguf_info(tiny_moe)
    assert (info.architecture, info.context_length, info.expert_count) == ("qwen3moe", 4096, 4)
    base = LocalSettings(model=str(tiny_moe), n_ctx=2048, n_threads=2, cpu_moe=True)
    cpu = plan_load(base, info, gpu_offload_supported=False)
    assert cpu.llama_kwargs["n_gpu_layers"] == 0 and cpu.llama_kwargs["flash_attn"] is False
    assert cpu.expert_override_pattern is None and "rope_scaling_type" not in cpu.llama_kwargs
    gpu = plan_load(base, info, gpu_offload_supported=True)
    assert gpu.llama_kwargs["n_gpu_layers"] == -1 and gpu.llama_kwargs["flash_attn"] is True
    assert gpu.expert_override_pattern is not None
    long = plan_load(base.model_copy(update={"n_ctx": 16384}), info, gpu_offload_supported=False)
    assert long.llama_kwargs["rope_scaling_type"] == 2 and long.llama_kwargs["yarn_orig_ctx"] == 4096
    assert long.llama_kwargs["rope_freq_scale"] == pytest.approx(0.25)
    never = plan_load(base.model_copy(update={"n_ctx": 16384, "rope_scaling": "none"}), info, False)
    assert never.llama_kwargs["rope_scaling_type"] == 0


def test_experts_on_cpu_override_loads_and_generates(tiny_moe: Path) -> None:
    """The low-level tensor_buft_overrides path (used with GPU offload) must load on a CPU build too."""
    info = read_gguf_info(tiny_moe)
    plan = plan_load(LocalSettings(model=str(tiny_moe), n_ctx=512, n_threads=1, cpu_moe=True), info, True)
    assert plan.expert_override_pattern
    seen: list[float] = []
    llm = load_llama(tiny_moe, plan, lambda p: seen.append(p) or True)
    try:
        out = llm.create_completion(llm.tokenize(b"def", add_bos=False), max_tokens=5, temperature=0.0)
        assert out["usage"]["completion_tokens"] == 5
        assert seen and seen[-1] == pytest.approx(1.0)
    finally:
        llm.close()


def test_nothing_reaches_stdout(tiny_moe: Path) -> None:
    """llama.cpp and llama-cpp-python must never write to stdout: it carries the LSP protocol."""
    script = textwrap.dedent(
        f"""
        import asyncio, threading, sys
        sys.path.insert(0, {str(Path(__file__).parents[1] / "support")!r})
        from model_files import fim_prompt
        from qwen_lsp.clients.base import GenerationParams
        from qwen_lsp.clients.local.backend import LocalLlamaBackend
        from qwen_lsp.clients.settings import LocalSettings

        async def main():
            b = LocalLlamaBackend(LocalSettings(model={str(tiny_moe)!r}, n_ctx=512, n_threads=1))
            out = [c async for c in b.stream_fim(fim_prompt("x"), GenerationParams(max_tokens=4), threading.Event())]
            await b.chat([{{"role": "user", "content": "hi"}}], GenerationParams(max_tokens=4))
            await b.aclose()
            sys.stderr.write("done %d\\n" % len(out))

        asyncio.run(main())
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "done" in result.stderr
    assert result.stdout == ""


# -- the real Qwen2.5-Coder-0.5B ---------------------------------------------------------------------


@pytest.fixture
async def real_backend():
    path = require_real_qwen_05b()
    settings = LocalSettings(model=str(path), n_ctx=4096, n_threads=1, repack=repack_survives(path))
    backend = LocalLlamaBackend(settings)
    await backend.ensure_ready()
    yield backend
    await backend.aclose()


@pytest.mark.real_model
async def test_real_model_completes_a_function_body(real_backend: LocalLlamaBackend) -> None:
    assert (await real_backend.fim_template()).family == "qwen"
    prompt = fim_prompt("def fibonacci(n):\n    ", "\n\nprint(fibonacci(10))\n")
    text = "".join(await collect(real_backend, prompt, max_tokens=64))
    assert "return" in text
    assert "<|" not in text


@pytest.mark.real_model
async def test_real_model_makes_a_tool_call(real_backend: LocalLlamaBackend) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the current weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    messages = [{"role": "user", "content": "What is the weather in Paris right now? Use the tool."}]
    reply = await real_backend.chat(messages, GenerationParams(max_tokens=64), tools=tools)
    assert reply.finish_reason == "tool_calls", reply
    assert reply.tool_calls[0].name == "get_weather"
    assert "paris" in json.loads(reply.tool_calls[0].arguments)["city"].lower()


@pytest.mark.real_model
async def test_real_model_cancel_interrupts_prompt_evaluation(real_backend: LocalLlamaBackend) -> None:
    """A long prompt is evaluated in batches; cancelling mid-way stops before the whole prompt is read."""
    import asyncio

    prefix = "".join(f"def function_{i}(value):\n    return value * {i} + {i * 7}\n\n" for i in range(120))
    prompt = fim_prompt(prefix)
    tokens = real_backend.tokenize_prompt(prompt)
    assert len(tokens) > 2000
    cancel = threading.Event()
    asyncio.get_running_loop().call_later(0.5, cancel.set)
    chunks = [c async for c in real_backend.stream_fim(prompt, GenerationParams(max_tokens=8), cancel)]
    await real_backend.wait_idle()
    assert chunks == []
    assert real_backend.last_stats.finish_reason == "cancelled"
    assert real_backend.evaluated_tokens() < len(tokens)  # stopped inside prompt evaluation
    assert await collect(real_backend, fim_prompt("def add(a, b):\n    "), max_tokens=4)  # still serves


@pytest.mark.real_model
@pytest.mark.parametrize(("chat_context", "chat_tokens"), [("separate", 400), ("shared", 40)])
async def test_a_completion_does_not_wait_for_a_long_chat_in_its_own_context(
    chat_context: str, chat_tokens: int
) -> None:
    """An agent step may generate for minutes; in a separate context the ghost text keeps coming meanwhile."""
    import asyncio

    path = require_real_qwen_05b()
    backend = LocalLlamaBackend(
        LocalSettings(model=str(path), n_ctx=2048, n_threads=1, repack=repack_survives(path), chat_context=chat_context)
    )
    await backend.ensure_ready()
    cancel = threading.Event()
    messages = [{"role": "user", "content": "Write the numbers from 1 to 500, separated by commas."}]
    chat = asyncio.create_task(backend.chat(messages, GenerationParams(max_tokens=chat_tokens), cancel=cancel))
    try:
        async with asyncio.timeout(120):
            while backend.last_chat_stats.generated_tokens < 3:  # the chat is generating
                await asyncio.sleep(0.05)
        text = "".join(await collect(backend, fim_prompt("def add(a, b):\n    "), max_tokens=8))
        completed_during_the_chat = not chat.done()
        assert text
        assert completed_during_the_chat == (chat_context == "separate")
        assert backend.last_stats is not backend.last_chat_stats or chat_context == "shared"
    finally:
        cancel.set()
        await chat
        await backend.aclose()
