"""Settings sources and validation; the local statistics summary."""

from __future__ import annotations

import json
import re
from pathlib import Path

from pydantic import TypeAdapter

from qwen_lsp.server.config import ServerSettings, env_overrides, load_settings
from qwen_lsp.server.stats import StatsRecorder, format_summary, summarize


def test_every_setting_has_a_description():
    def walk(model):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            annotation = field.annotation
            if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
                walk(annotation)

    walk(ServerSettings)


VSCODE_PACKAGE = Path(__file__).resolve().parents[2] / "editors" / "vscode" / "package.json"
# The extension's own settings, never sent to the server: read from editors/vscode/src/config.ts so they cannot drift.
VSCODE_CLIENT_ONLY = set(
    re.findall(
        r"'([^']+)'",
        re.search(
            r"CLIENT_ONLY = new Set\(\[(.*?)\]\)", (VSCODE_PACKAGE.parent / "src" / "config.ts").read_text()
        ).group(1),
    )
)


def test_vscode_settings_are_server_settings_with_the_same_defaults():
    properties = json.loads(VSCODE_PACKAGE.read_text())["contributes"]["configuration"]["properties"]
    keys = {key.removeprefix("qwenLsp.") for key in properties} - VSCODE_CLIENT_ONLY
    defaults = ServerSettings().model_dump()
    for key in keys:
        entry = properties[f"qwenLsp.{key}"]
        model, value = ServerSettings, defaults
        for part in key.split("."):
            assert part in model.model_fields, f"qwenLsp.{key} is not a server setting"
            field, value = model.model_fields[part], value[part]
            model = field.annotation
        assert entry["default"] == value, f"qwenLsp.{key}: the default differs from the server's"
        for choice in entry.get("enum", []):
            TypeAdapter(model).validate_python(choice)  # every choice offered is one the server takes
    assert {
        "privacy.local_only",
        "privacy.secret_files",
        "agent.sandbox",
        "agent.allow_unsandboxed_commands",
        "agent.command_env",
    } <= keys


def test_env_overrides_nest_and_ignore_non_settings():
    env = {
        "QWEN_LSP_BACKEND__LOCAL__MODEL": "/m.gguf",
        "QWEN_LSP_COMPLETION__DEBOUNCE_MS": "10",
        "QWEN_LSP_API_KEY": "secret",
        "QWEN_LSP_MODELS_DIR": "/models",
        "OTHER": "x",
    }
    assert env_overrides(env) == {"backend": {"local": {"model": "/m.gguf"}}, "completion": {"debounce_ms": "10"}}


def test_later_sources_win_and_camel_case_is_accepted():
    settings, warnings = load_settings({"completion": {"debounce_ms": "10"}}, {"completion": {"debounceMs": 20}})
    assert warnings == [] and settings.completion.debounce_ms == 20


def test_invalid_values_fall_back_per_field_with_one_warning_each():
    settings, warnings = load_settings(
        {"completion": {"debounceMs": -5, "maxTokens": 64}, "backend": {"kind": "cloud"}, "nonsense": 1}
    )
    assert settings.completion.max_tokens == 64  # the valid neighbour survives
    assert settings.completion.debounce_ms == ServerSettings().completion.debounce_ms
    assert settings.backend.kind == "local"
    assert len(warnings) == 3 and all("using the default" in w for w in warnings)


def test_stats_summary_counts_acceptance_once_and_survives_torn_lines(tmp_path):
    recorder = StatsRecorder(tmp_path / "stats.jsonl")
    for index, latency in enumerate([100.0, 200.0, 300.0]):
        recorder.offered(f"c{index}", "qwen-0.5b", "abcdef", latency)
        recorder.shown(f"c{index}")
    recorder.accepted("c0")
    recorder.accepted("c0")  # counted once
    recorder.partially_accepted("c1", 3)
    recorder.accepted("unknown-id")  # ignored
    with (tmp_path / "stats.jsonl").open("a") as handle:
        handle.write('{"event": "offered", "mod')  # torn line from a crash
    [summary] = summarize(tmp_path / "stats.jsonl")
    assert (summary.offered, summary.shown, summary.accepted, summary.partially_accepted) == (3, 3, 1, 1)
    assert summary.chars_accepted == 6 + 3
    assert abs(summary.acceptance_rate - 2 / 3) < 1e-9
    assert summary.latency_p50_ms == 200.0
    assert "qwen-0.5b" in format_summary([summary])
    assert all("event" in json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()[:-1])


async def test_changed_completion_settings_reach_the_cache_without_a_new_backend():
    from qwen_lsp.clients.scripted import ScriptedBackend
    from qwen_lsp.server.completion.cache import CacheKey
    from qwen_lsp.server.session import Session

    built: list[ScriptedBackend] = []
    session = Session(ServerSettings(), lambda _settings: built.append(ScriptedBackend()) or built[-1])
    key = CacheKey("file:///a.py", "x = ", "\n")
    session.cache.put(key, "1")
    assert not await session.apply(ServerSettings())
    assert session.cache.get(key) == "1"  # nothing changed: the cache stays
    smaller, _warnings = load_settings({"completion": {"cache_size": 1}})
    assert not await session.apply(smaller)
    assert len(built) == 1 and session.cache.get(key) is None
    session.cache.put(CacheKey("file:///a.py", "a", ""), "1")
    session.cache.put(CacheKey("file:///a.py", "b", ""), "2")
    assert session.cache.get(CacheKey("file:///a.py", "a", "")) is None  # capacity 1 now
    assert session.pipeline.cache is session.cache


async def test_the_pipeline_reads_the_settings_it_is_given_and_a_change_reaches_it():
    import threading

    from qwen_lsp.clients.scripted import ScriptedBackend
    from qwen_lsp.server.completion.request import CompletionRequest
    from qwen_lsp.server.session import Session

    backend = ScriptedBackend(default_reply="total = 1 END more")
    session = Session(ServerSettings(), lambda _settings: backend)
    text = "def f():\n    " + "\n" * 10 + "# " + "y" * 500 + "\n"
    request = CompletionRequest("file:///a.py", "a.py", "python", text, len("def f():\n    "))
    first = await session.pipeline.complete(request, threading.Event())
    assert first is not None and first.text == "total = 1 END more"
    changed, _ = load_settings(
        {"completion": {"stop": ["END"], "max_suffix_chars": 20, "disabled_languages": ["go"]}, "context": {}}
    )
    await session.apply(changed)
    second = await session.pipeline.complete(request, threading.Event())
    assert second is not None and second.text == "total = 1"  # the extra stop string
    suffix = backend.prompts[-1].text.rsplit("<|fim_suffix|>", 1)[1].split("<|fim_middle|>")[0]
    assert len(suffix) <= 20 < len(backend.prompts[0].text.rsplit("<|fim_suffix|>", 1)[1])
    go = CompletionRequest("file:///a.go", "a.go", "go", "func f() {\n\t", len("func f() {\n\t"))
    assert await session.pipeline.complete(go, threading.Event()) is None and len(backend.prompts) == 2
