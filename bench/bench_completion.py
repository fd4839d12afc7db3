"""Completion latency through the real ``qwen-lsp`` over stdio, with the real Qwen2.5-Coder-0.5B on one thread.

Three measurements on real code (modules of the pinned pygls dependency):
1. cold vs warm time to first token: the first request after the model is ready, then one request per typed
   character (KV-cache prefix reuse). TTFT is the LSP round trip with max tokens 1; full single-line completions
   are measured too (first request in a second file = cold prompt, then keystrokes).
2. LSP round trip vs a direct ``llama_cpp.Llama`` call in this process, loaded with the server's parameters, on
   the same token list with the same stop rules (so the same number of tokens), replaying the same sequence of
   prompts so both KV caches are in the same state. The two calls alternate, so load changes hit both.
3. a typing storm, in a second server with the default settings: 20 keystrokes/s for 10 s (didChange + inlineCompletion each, the previous request cancelled as
   VS Code does), then a pause: model calls started and cancelled, and the latency of the reply to the last key.
The completion cache is off for 1 and 2 (a predicted keystroke would be answered from the cache, not the model)
and debounce is 0 there. The time budget for cold prompts (``completion.prompt_budget_ms``) is off in all three:
they measure the full prompt (``bench_latency.py`` measures the budget). About 10 minutes on a 2-core machine.

    .venv/bin/python bench/bench_completion.py [--only series|storm] [--warm 5] [--max-suffix-chars N] [--no-repack]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from common import (
    GreedyCall,
    LspSession,
    ModelSettings,
    Report,
    add_model_arguments,
    control_stop_ids,
    first_text,
    healed_tokens,
    load_direct_llama,
    load_vocab,
    machine_info,
    median,
    model_settings,
    process_cpu_seconds,
    show_and_write,
    summary,
    token_texts,
    tokenize_prompt,
)
from qwen_lsp.clients.local.generation_stats import common_prefix
from qwen_lsp.clients.models.fim_templates import QWEN, FimTemplate
from qwen_lsp.server.completion.postprocess import postprocess
from qwen_lsp.server.completion.prompt import file_window
from qwen_lsp.server.completion.stop import cut_point
from qwen_lsp.server.config import CompletionSettings
from typed_document import TypedDocument, package_source, typing_point

FILE_A = "pygls.protocol.json_rpc"  # 735 lines
FILE_B = "pygls.workspace.text_document"  # 315 lines
STORM_FILE = "pygls.lsp._base_server"  # 463 lines
TTFT_GOAL, OVERHEAD_GOAL = 30.0, 1.05


@dataclass
class Step:
    """One request: the LSP round trip and the direct call on the same prompt."""

    label: str
    lsp_ms: float
    direct_ms: float | None  # None when the series runs without direct calls
    lsp_cpu_ms: float  # CPU time of the server process for the request
    direct_cpu_ms: float | None  # CPU time of this process for the direct call
    prompt_tokens: int
    reused_tokens: int  # common prefix with the previous prompt: what the KV cache can keep
    lsp_text: str | None
    direct_text: str
    generated_tokens: int


class Direct:
    """The direct llama.cpp side: same parameters, same tokens, same stop rules as the server."""

    def __init__(self, model: ModelSettings, template: FimTemplate) -> None:
        self.llm = load_direct_llama(model)
        self.template = template
        self.previous: list[int] = []
        self.stop_ids = control_stop_ids(self.llm, template.stop)
        self.texts = token_texts(self.llm)

    def run(
        self, doc: TypedDocument, shape: str, max_tokens: int, settings: dict, call: bool = True
    ) -> tuple[float | None, str, int, int, int]:
        """(ms, text after post-processing, prompt tokens, tokens reused from the previous prompt, tokens generated).
        ``call=False`` only counts the tokens (the server's KV cache reuses the same prefix)."""
        prompt = doc.prompt(self.template, settings["max_prefix_chars"], settings["max_suffix_chars"])
        tokens, healed = healed_tokens(self.llm, prompt, self.texts)
        reused = common_prefix(self.previous, tokens)
        self.previous = tokens
        self.cpu_ms = None
        if not call:
            return None, "", len(tokens), reused, 0
        rules = doc.stop_rules(self.template, shape)
        text = ""
        started, cpu_started = time.perf_counter(), time.process_time()
        call = GreedyCall(self.llm, tokens, max_tokens, self.stop_ids, healed=healed, texts=self.texts)
        for chunk in call:
            text += chunk
            cut = cut_point(text, rules)
            if cut is not None:  # the pipeline's stop rule: the server stops generating here too
                text = text[:cut]
                break
        call.close()
        elapsed = (time.perf_counter() - started) * 1000
        self.cpu_ms = (time.process_time() - cpu_started) * 1000
        return elapsed, postprocess(text, rules.line_prefix, rules.suffix), len(tokens), reused, call.sampled


def completion_settings(max_tokens: int | None, args: argparse.Namespace, **extra: Any) -> dict:
    defaults = CompletionSettings()
    settings = {
        "debounce_ms": 0,
        "cache_size": 0,
        "max_tokens": max_tokens or defaults.max_tokens,
        "max_tokens_single_line": max_tokens or defaults.max_tokens_single_line,
        "max_prefix_chars": args.max_prefix_chars or defaults.max_prefix_chars,
        "max_suffix_chars": args.max_suffix_chars or defaults.max_suffix_chars,
        "prompt_budget_ms": 0,
    }
    return {**settings, **extra}


async def measure(lsp: LspSession, direct: Direct, doc: TypedDocument, label: str, settings: dict, call: bool) -> Step:
    """One LSP request at the cursor, then the direct call on the same prompt (checked to be the same text)."""
    line, character = doc.position
    cpu_before = process_cpu_seconds(lsp.server_pid)
    text, lsp_ms = await lsp.inline(doc.uri, line, character)
    lsp_cpu_ms = (process_cpu_seconds(lsp.server_pid) - cpu_before) * 1000
    inspected = await lsp.inspect(doc.uri, line, character)  # after the request: the first one stays cold
    local = doc.prompt(direct.template, settings["max_prefix_chars"], settings["max_suffix_chars"])
    if inspected.get("prompt") != local.text:
        raise SystemExit(f"{label}: the bench's prompt differs from the server's (qwen.inspectContext); fix the bench")
    max_tokens = settings["max_tokens"] if inspected["shape"] == "block" else settings["max_tokens_single_line"]
    direct_ms, direct_text, prompt_tokens, reused, generated = direct.run(
        doc, inspected["shape"], max_tokens, settings, call
    )
    step = Step(
        label,
        lsp_ms,
        direct_ms,
        round(lsp_cpu_ms),
        direct.cpu_ms and round(direct.cpu_ms),
        prompt_tokens,
        reused,
        text,
        direct_text,
        generated,
    )
    shown = "-" if direct_ms is None else f"{direct_ms:.1f}"
    cpu = f"cpu {lsp_cpu_ms:.0f}/{direct.cpu_ms:.0f} ms" if direct.cpu_ms is not None else f"cpu {lsp_cpu_ms:.0f} ms"
    print(
        f"  {label:<10} lsp {lsp_ms:8.1f} ms  direct {shown:>8} ms  {cpu}  prompt {prompt_tokens} (reused {reused})  {text!r}",
        flush=True,
    )
    return step


async def keystroke_series(
    lsp: LspSession, direct: Direct, doc: TypedDocument, warm: int, settings: dict, call: bool = True
) -> list[Step]:
    """The cold request, then ``warm`` keystrokes with a request after each; the direct call after each request
    unless ``call`` is False."""
    lsp.configure(settings)
    doc.open(lsp)
    steps = [await measure(lsp, direct, doc, "cold", settings, call)]
    for index in range(warm):
        doc.type_next(lsp)
        steps.append(await measure(lsp, direct, doc, f"warm {index + 1}", settings, call))
    return steps


async def typing_storm(model: ModelSettings, args: argparse.Namespace) -> dict:
    """20 keystrokes/s for ``args.storm_seconds``, then a pause, in a server with the default completion settings
    (debounce, cache); counters from ``qwen.serverStatus``."""
    text, name = package_source(STORM_FILE)
    line, _ = typing_point(text, 0.5)
    keys = int(args.storm_rate * args.storm_seconds)
    doc = TypedDocument.cut_lines(f"file:///bench/{name}", text, line, keys)
    vocab = load_vocab(model.path)
    defaults = CompletionSettings()

    def prompt_tokens() -> list[int]:
        return tokenize_prompt(vocab, doc.prompt(QWEN, defaults.max_prefix_chars, defaults.max_suffix_chars))

    def window_start() -> int:
        return file_window(doc.text, doc.offset, defaults.max_prefix_chars, defaults.max_suffix_chars).prefix_start

    before_storm, start_before = prompt_tokens(), window_start()
    async with LspSession(model, completion={"prompt_budget_ms": 0}) as lsp:
        await lsp.wait_ready()
        doc.open(lsp)
        result = await _storm(lsp, doc, keys, args.storm_rate)
    after_storm = prompt_tokens()
    # How much of the prompt before the storm (in the KV cache) the prompt after it can keep.
    result["prompt_tokens_after_storm"] = len(after_storm)
    result["prompt_tokens_reusable"] = common_prefix(before_storm, after_storm)
    result["window_start_moved"] = window_start() != start_before
    return result


async def _storm(lsp: LspSession, doc: TypedDocument, keys: int, rate: float) -> dict:
    # Warm the KV cache with the text before the storm, as a user who paused before typing would have.
    await lsp.inline(doc.uri, *doc.position)
    before = await lsp.status()
    loop = asyncio.get_running_loop()
    started = loop.time()
    pending: list[tuple[str, asyncio.Future, float]] = []
    for index in range(keys):
        await asyncio.sleep(max(0.0, started + index / rate - loop.time()))
        doc.type_next(lsp)
        if pending and not pending[-1][1].done():
            lsp.cancel(pending[-1][0])  # VS Code cancels the previous inline request when it asks again
        msg_id, future = lsp.start_inline(doc.uri, *doc.position)
        pending.append((msg_id, future, time.perf_counter()))
    typed_for = loop.time() - started
    gaps = [(b[2] - a[2]) * 1000 for a, b in itertools.pairwise(pending)]
    _, last_future, last_sent = pending[-1]
    last_result = await last_future
    last_ms = (time.perf_counter() - last_sent) * 1000
    results = await asyncio.gather(*(f for _, f, _ in pending[:-1]), return_exceptions=True)
    await asyncio.sleep(1.0)  # let cancelled model calls report back before reading the counters
    after = await lsp.status()
    delta = {k: after["pipeline"][k] - before["pipeline"][k] for k in after["pipeline"]}
    superseded = after["requests"]["superseded"] - before["requests"]["superseded"]

    return {
        "keystrokes": keys,
        "typed_seconds": round(typed_for, 2),
        # A gap longer than the debounce lets a request reach the model mid-storm, as a hesitating typist does.
        "longest_gap_between_keystrokes_ms": round(max(gaps), 1) if gaps else None,
        "gaps_over_debounce": sum(1 for g in gaps if g > CompletionSettings().debounce_ms),
        "debounce_ms": CompletionSettings().debounce_ms,
        "requests": len(pending),
        "requests_cancelled_by_client": sum(isinstance(r, BaseException) for r in results),
        "replies_with_text_during_storm": sum(1 for r in results if not isinstance(r, BaseException) and first_text(r)),
        "model_calls": delta["model_calls"],
        "model_calls_cancelled": delta["model_calls_cancelled"],
        "cache_hits": delta["cache_hits"],
        "superseded": superseded,
        "pipeline_delta": delta,
        "last_reply_ms": round(last_ms, 1),
        "last_reply_text": first_text(last_result),
    }


def ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("inf")


async def run(args: argparse.Namespace) -> Report:
    model = model_settings(args, args.n_ctx)
    report = Report("completion", meta=machine_info(model))
    if args.only in (None, "series"):
        await run_series(model, args, report)
    if args.only in (None, "storm"):
        print("typing storm (a new server, default completion settings but the time budget)", flush=True)
        storm = await typing_storm(model, args)
        print(f"  {storm}", flush=True)
        report_storm(report, storm)
    return report


async def run_series(model: ModelSettings, args: argparse.Namespace, report: Report) -> None:
    text_a, name_a = package_source(FILE_A)
    text_b, name_b = package_source(FILE_B)
    doc_a = TypedDocument.cut_line(f"file:///bench/{name_a}", text_a, *typing_point(text_a, 0.55))
    doc_b = TypedDocument.cut_line(f"file:///bench/{name_b}", text_b, *typing_point(text_b, 0.55))
    print(f"loading {model.path.name} in the server and in this process (n_threads=1)", flush=True)
    # The cache is off for these series: a keystroke the last completion predicted would be answered from it,
    # and the server only sizes its cache at start.
    async with LspSession(model, completion={"cache_size": 0, "prompt_budget_ms": 0}) as lsp:
        direct = Direct(model, QWEN)
        load_s = await lsp.wait_ready()
        status = await lsp.status()
        print(f"server ready after {load_s:.1f} s: {status.get('detail')}", flush=True)
        ttft_settings = completion_settings(1, args)
        print(f"1. time to first token (max tokens 1), {name_a}", flush=True)
        ttft = await keystroke_series(lsp, direct, doc_a, args.warm, ttft_settings, args.direct_ttft)
        full_settings = completion_settings(None, args)
        print(f"2. full completions, {name_b} (cold prompt: a new file)", flush=True)
        full = await keystroke_series(lsp, direct, doc_b, args.warm, full_settings)
        counters = await lsp.status()
    del direct

    warm_ttft = [s.lsp_ms for s in ttft[1:]]
    warm_full = [s.lsp_ms for s in full[1:]]
    cold_warm = ratio(ttft[0].lsp_ms, median(warm_ttft))
    overhead_full = ratio(median(warm_full), median([s.direct_ms for s in full[1:]]))
    overhead_cpu = ratio(median([s.lsp_cpu_ms for s in full[1:]]), median([s.direct_cpu_ms for s in full[1:]]))
    prompt = f"{ttft[0].prompt_tokens}-token prompt"
    report.add("cold TTFT (first request after load)", round(ttft[0].lsp_ms), "ms", note=prompt)
    report.add(
        "warm TTFT (one keystroke later), median", round(median(warm_ttft)), "ms", note=f"{len(warm_ttft)} keystrokes"
    )
    evaluated = median([s.prompt_tokens - s.reused_tokens for s in ttft[1:]])
    report.add(
        "prompt tokens evaluated, cold / warm keystroke",
        f"{ttft[0].prompt_tokens} / {evaluated:.0f}",
        note="the rest of a warm prompt is reused from the KV cache",
    )
    report.add("cold ÷ warm TTFT", cold_warm, "×", f"≥ {TTFT_GOAL:g}×", cold_warm >= TTFT_GOAL)
    report.add(
        "full completion, cold prompt", round(full[0].lsp_ms), "ms", note=f"{full[0].prompt_tokens}-token prompt"
    )
    report.add("full completion, warm keystroke, median", round(median(warm_full)), "ms")
    report.add(
        "LSP ÷ direct llama.cpp, full completion (warm median)",
        overhead_full,
        "×",
        f"≤ {OVERHEAD_GOAL:g}",
        overhead_full <= OVERHEAD_GOAL,
    )
    report.add(
        "LSP ÷ direct llama.cpp, CPU time (warm median)",
        overhead_cpu,
        "×",
        f"≤ {OVERHEAD_GOAL:g}",
        overhead_cpu <= OVERHEAD_GOAL,
        note="server process vs this process",
    )
    if args.direct_ttft:
        overhead_ttft = ratio(median(warm_ttft), median([s.direct_ms for s in ttft[1:]]))
        report.add(
            "LSP ÷ direct llama.cpp, TTFT (warm median)",
            overhead_ttft,
            "×",
            f"≤ {OVERHEAD_GOAL:g}",
            overhead_ttft <= OVERHEAD_GOAL,
        )
    report.details.update(
        {
            "model_load_s": round(load_s, 2),
            "files": {"ttft": name_a, "full": name_b},
            "settings": {"ttft": ttft_settings, "full": full_settings},
            "ttft_steps": [vars(s) for s in ttft],
            "full_steps": [vars(s) for s in full],
            "same_text_lsp_and_direct": all((s.lsp_text or "") == s.direct_text for s in full),
            "warm_ttft_ms": summary(warm_ttft),
            "warm_full_ms": summary(warm_full),
            "direct_warm_full_ms": summary([s.direct_ms for s in full[1:]]),
            "direct_warm_ttft_ms": summary([s.direct_ms for s in ttft[1:] if s.direct_ms is not None]),
            "server_counters_at_end": counters,
        }
    )


def report_storm(report: Report, storm: dict) -> None:
    report.add("typing storm: keystrokes (20/s)", storm["keystrokes"])
    report.add("typing storm: model calls started", storm["model_calls"], "", "1 per pause", storm["model_calls"] == 1)
    report.add("typing storm: model calls cancelled", storm["model_calls_cancelled"])
    report.add(
        "typing storm: requests superseded / cancelled by client",
        f"{storm['superseded']} / {storm['requests_cancelled_by_client']}",
    )
    report.add(
        "typing storm: reply to the last keystroke",
        round(storm["last_reply_ms"]),
        "ms",
        note=f"{storm['prompt_tokens_reusable']} of {storm['prompt_tokens_after_storm']} prompt tokens reusable"
        + ("; the prefix window's start moved" if storm["window_start_moved"] else ""),
    )
    report.add(
        "typing storm: gaps between keystrokes over the debounce",
        storm["gaps_over_debounce"],
        note=f"longest {storm['longest_gap_between_keystrokes_ms']} ms, debounce {storm['debounce_ms']} ms",
    )
    report.details["storm"] = {"file": STORM_FILE, **storm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_arguments(parser)
    parser.add_argument("--warm", type=int, default=5, help="keystrokes after the cold request in each series")
    parser.add_argument("--direct-ttft", action="store_true", help="also compare TTFT with direct calls (longer run)")
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--max-prefix-chars", type=int, help="completion.max_prefix_chars (default: the server's)")
    parser.add_argument("--max-suffix-chars", type=int, help="completion.max_suffix_chars (default: the server's)")
    parser.add_argument("--storm-rate", type=float, default=20.0, help="keystrokes per second")
    parser.add_argument("--storm-seconds", type=float, default=10.0)
    parser.add_argument("--only", choices=["series", "storm"], help="run one part (default: both)")
    parser.add_argument("--output", default="completion.json", help="file name under bench/results/")
    args = parser.parse_args()
    show_and_write(asyncio.run(run(args)), args.output)


if __name__ == "__main__":
    main()
