"""Shared helpers for the benchmarks: the real ``qwen-lsp`` over stdio, a direct llama.cpp model loaded exactly as
the server loads it, timing statistics, and the result table / JSON file.

Benchmarks measure; they never assert. Every run writes what it measured and the conditions (machine, load,
llama-cpp-python version, git commit) next to the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
QWEN_05B_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")
STATUS_COMMAND = "qwen.serverStatus"
INSPECT_COMMAND = "qwen.inspectContext"


# -- model and settings ----------------------------------------------------------------------------------


def find_model(explicit: str | None = None) -> Path:
    """The real Qwen2.5-Coder-0.5B GGUF: ``--model``, ``$QWEN_LSP_MODELS_DIR`` or ``~/.cache/qwen-lsp/models``."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            sys.exit(f"model file {path} does not exist")
        return path
    for directory in (os.environ.get("QWEN_LSP_MODELS_DIR", ""), str(Path.home() / ".cache/qwen-lsp/models")):
        if directory and (Path(directory) / QWEN_05B_FILE).is_file():
            return Path(directory) / QWEN_05B_FILE
    sys.exit(f"{QWEN_05B_FILE} not found: run `qwen-lsp model pull qwen2.5-coder-0.5b` or pass --model PATH")


@dataclass(frozen=True)
class ModelSettings:
    """The backend settings shared by the server under test and the direct llama.cpp comparison."""

    path: Path
    n_threads: int = 1
    n_ctx: int = 8192
    repack: bool = True
    chat_context: str = "separate"

    def env(self) -> dict[str, str]:
        return {
            "QWEN_LSP_BACKEND__KIND": "local",
            "QWEN_LSP_BACKEND__LOCAL__MODEL": str(self.path),
            "QWEN_LSP_BACKEND__LOCAL__N_THREADS": str(self.n_threads),
            "QWEN_LSP_BACKEND__LOCAL__N_CTX": str(self.n_ctx),
            "QWEN_LSP_BACKEND__LOCAL__REPACK": "true" if self.repack else "false",
            "QWEN_LSP_BACKEND__LOCAL__CHAT_CONTEXT": self.chat_context,
        }


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--model`` and ``--no-repack``, which every benchmark of the real model takes (see ``model_settings``)."""
    parser.add_argument("--model", help="path of the Qwen2.5-Coder-0.5B GGUF (default: the models directory)")
    parser.add_argument("--no-repack", action="store_true", help="backend.local.repack=false (CPUs that trap AMX)")


def model_settings(args: argparse.Namespace, n_ctx: int) -> ModelSettings:
    """The model of ``add_model_arguments``, one thread (two collapse on a busy 2-core machine)."""
    return ModelSettings(find_model(args.model), n_threads=1, n_ctx=n_ctx, repack=not args.no_repack)


def show_and_write(report: Report, name: str) -> None:
    """Print the report's table and write its JSON under bench/results/."""
    print()
    print(report.table())
    print(f"\nwrote {report.write(name)}")


def load_direct_llama(settings: ModelSettings) -> Any:
    """A ``llama_cpp.Llama`` built with the very parameters the server's local backend uses."""
    import llama_cpp

    from qwen_lsp.clients.local.loader import load_llama, plan_load, read_gguf_info
    from qwen_lsp.clients.settings import LocalSettings

    local = LocalSettings(
        model=str(settings.path), n_threads=settings.n_threads, n_ctx=settings.n_ctx, repack=settings.repack
    )
    plan = plan_load(local, read_gguf_info(settings.path), bool(llama_cpp.llama_supports_gpu_offload()))
    return load_llama(settings.path, plan, lambda _progress: True)


def load_vocab(path: Path) -> Any:
    """Only the tokenizer of a GGUF (no weights): for counting prompt tokens on the bench side."""
    from llama_cpp import Llama

    return Llama(model_path=str(path), vocab_only=True, verbose=False)


def tokenize_prompt(llm: Any, prompt: Any) -> list[int]:
    """Token ids of a ``clients.base.Prompt`` exactly as the local backend builds them."""
    from qwen_lsp.clients.local.token_healing import prompt_tokens

    return prompt_tokens(llm, prompt)[0]


def control_stop_ids(llm: Any, stop: tuple[str, ...]) -> set[int]:
    """Ids of the stop strings that are single (control) tokens; they end generation like the backend's."""
    found = set()
    for text in stop:
        ids = llm.tokenize(text.encode(), add_bos=False, special=True)
        if len(ids) == 1:
            found.add(ids[0])
    return found


def healed_tokens(llm: Any, prompt: Any, texts: Any) -> tuple[list[int], str]:
    """The prompt's tokens with the local backend's token healing applied: (tokens, healed text)."""
    from qwen_lsp.clients.local.token_healing import back_off, prompt_tokens

    return back_off(*prompt_tokens(llm, prompt), texts)


def token_texts(llm: Any) -> Any:
    from qwen_lsp.clients.local.token_healing import TokenTexts

    return TokenTexts.of(llm.n_vocab(), llm.detokenize)


class GreedyCall:
    """One direct call with the local backend's sampling (greedy, no penalties) and token healing, streamed;
    stops at the template's control tokens as the backend does and counts the sampled tokens."""

    def __init__(
        self,
        llm: Any,
        tokens: list[int],
        max_tokens: int,
        stop_ids: set[int],
        stop: list[str] | None = None,
        healed: str = "",
        texts: Any = None,
    ):
        from llama_cpp import LogitsProcessorList, StoppingCriteriaList

        from qwen_lsp.clients.local.token_healing import HealingProcessor

        self.sampled = 0
        self.healed = healed
        prompt_length = len(tokens)

        def criteria(input_ids: Any, _logits: Any) -> bool:
            self.sampled += 1
            return len(input_ids) > prompt_length and int(input_ids[-1]) in stop_ids

        healing = LogitsProcessorList([HealingProcessor(texts, healed, prompt_length)]) if healed else None
        self.stream = llm.create_completion(
            tokens,
            max_tokens=max_tokens + (1 if healed else 0),
            temperature=0.0,
            top_p=1.0,
            top_k=0,
            min_p=0.0,
            repeat_penalty=1.0,
            stop=stop or [],
            stream=True,
            stopping_criteria=StoppingCriteriaList([criteria]),
            logits_processor=healing,
        )

    def __iter__(self) -> Any:
        from qwen_lsp.clients.local.token_healing import DropPrefix

        out: list[str] = []
        drop = DropPrefix(self.healed, out.append)
        for chunk in self.stream:
            drop(chunk["choices"][0]["text"])
            while out:
                yield out.pop(0)

    def close(self) -> None:
        self.stream.close()


# -- the server over stdio --------------------------------------------------------------------------------


def _capabilities() -> types.ClientCapabilities:
    from pytest_lsp import client_capabilities

    caps = client_capabilities("visual-studio-code")
    caps.text_document.inline_completion = types.InlineCompletionClientCapabilities(dynamic_registration=False)
    return caps


class LspSession:
    """``async with LspSession(settings, completion={...}) as lsp:`` — the installed ``qwen-lsp`` over stdio,
    initialised with VS Code's capabilities plus inline completion; always shut down."""

    def __init__(self, model: ModelSettings, completion: dict[str, Any] | None = None):
        self.model = model
        self.initialization_options = {"completion": completion or {}}
        self.client: Any = None
        self.statuses: list[Any] = []
        self._data_dir = tempfile.TemporaryDirectory(prefix="qwen-lsp-bench-")

    async def __aenter__(self) -> LspSession:
        from pytest_lsp import ClientServerConfig

        # The client warns when it cancels a request whose answer is already on its way: expected in a storm.
        logging.getLogger("pygls.protocol.json_rpc").setLevel(logging.ERROR)

        env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
        env.update(self.model.env())
        env["QWEN_LSP_DATA_DIR"] = self._data_dir.name  # acceptance statistics of the run stay out of the user's
        config = ClientServerConfig(server_command=[QWEN_LSP, "serve", "--log-level", "warning"], server_env=env)
        self.client = await config.start()
        self.client.feature("qwen/status")(lambda params: self.statuses.append(params))
        await self.client.initialize_session(
            types.InitializeParams(capabilities=_capabilities(), initialization_options=self.initialization_options)
        )
        return self

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_session(), timeout=60)
        finally:
            await self.client.stop()
            self._data_dir.cleanup()

    @property
    def server_pid(self) -> int:
        return self.client._server.pid

    async def wait_ready(self, timeout: float = 600) -> float:
        """Seconds until the server reports the model ready (loading starts right after ``initialized``)."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            status = await self.status()
            if status.get("state") == "ready":
                return time.perf_counter() - started
            if status.get("state") == "error":
                raise RuntimeError(f"the server could not load the model: {status.get('detail')}")
            await asyncio.sleep(0.1)
        raise TimeoutError("the model did not become ready")

    async def status(self) -> dict:
        return await self.execute(STATUS_COMMAND)

    async def execute(self, command: str, *arguments: Any) -> Any:
        return await self.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        )

    async def inspect(self, uri: str, line: int, character: int) -> dict:
        return await self.execute(
            INSPECT_COMMAND, {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
        )

    def configure(self, completion: dict[str, Any]) -> None:
        """Push new completion settings (``workspace/didChangeConfiguration``); the model stays loaded.
        They apply on top of the initialization options, so pass every field the phase relies on."""
        self.client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"qwenLsp": {"completion": completion}})
        )

    def open(self, uri: str, text: str, language_id: str = "python", version: int = 1) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(uri=uri, language_id=language_id, version=version, text=text)
            )
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    def edit(self, uri: str, version: int, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """One incremental change, as an editor sends it for a keystroke."""
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text
        )
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]
            )
        )

    def start_inline(self, uri: str, line: int, character: int) -> tuple[str, asyncio.Future]:
        """Send ``textDocument/inlineCompletion`` without waiting: its id (for ``$/cancelRequest``) and future."""
        params = types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=line, character=character),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic),
        )
        msg_id = f"inline-{uuid.uuid4().hex[:10]}"
        future = asyncio.ensure_future(
            self.client.protocol.send_request_async(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id)
        )
        return msg_id, future

    def cancel(self, msg_id: str) -> None:
        self.client.cancel_request(types.CancelParams(id=msg_id))

    async def inline(self, uri: str, line: int, character: int) -> tuple[str | None, float]:
        """The first inline completion item's text (None for no completion) and the round trip in ms."""
        started = time.perf_counter()
        _, future = self.start_inline(uri, line, character)
        result = await future
        return first_text(result), (time.perf_counter() - started) * 1000


def first_text(result: Any) -> str | None:
    if result is None:
        return None
    items = result.items if hasattr(result, "items") else result
    return items[0].insert_text if items else None


def process_rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads so far (Linux ``/proc``): unlike wall time, it
    does not grow when other work on a shared machine takes the CPU."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- statistics, tables and results -------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summary(values: list[float]) -> dict[str, float]:
    """Median, mean, min, max and the raw samples (ms), rounded for the JSON file."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "median": round(statistics.median(values), 2),
        "mean": round(statistics.fmean(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
        "samples": [round(v, 2) for v in values],
    }


@dataclass
class Metric:
    name: str
    value: float | int | str
    unit: str = ""
    goal: str = ""
    met: bool | None = None  # None: no goal
    note: str = ""


@dataclass
class Report:
    benchmark: str
    metrics: list[Metric] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        name: str,
        value: float | int | str,
        unit: str = "",
        goal: str = "",
        met: bool | None = None,
        note: str = "",
    ) -> None:
        self.metrics.append(Metric(name, value, unit, goal, met, note))

    def table(self) -> str:
        """A Markdown table (metric, value, goal, met?) ready for the README."""
        rows = ["| metric | value | goal | met? |", "|---|---|---|---|"]
        for m in self.metrics:
            value = f"{_format(m.value)} {m.unit}".strip() + (f" ({m.note})" if m.note else "")
            met = "" if m.met is None else ("yes" if m.met else "**no**")
            rows.append(f"| {m.name} | {value} | {m.goal} | {met} |")
        return "\n".join(rows)

    def write(self, name: str) -> Path:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / name
        self.meta["load_average_at_end"] = os.getloadavg()  # other work on the machine skews the figures
        payload = {
            "benchmark": self.benchmark,
            "meta": self.meta,
            "metrics": [asdict(m) for m in self.metrics],
            "details": self.details,
        }
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        return path


def _format(value: float | int | str) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def machine_info(model: ModelSettings) -> dict[str, Any]:
    """The conditions of the run, stored with the figures."""
    import llama_cpp

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "git_commit": commit,
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "llama_cpp_python": llama_cpp.__version__,
        "model": model.path.name,
        "n_threads": model.n_threads,
        "n_ctx": model.n_ctx,
        "repack": model.repack,
    }
