"""``qwen-lsp eval`` completes through the served pipeline, once per variant (with / without repository context,
another suffix length): a stand-in backend in process for what each prompt holds, and the real command on a tiny
real GGUF for the whole path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from qwen_lsp.clients.base import GenerationParams, Prompt
from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.context.evaluation.run import completion_order
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions
from qwen_lsp.server.cli.eval import evaluate_with_model, variant_settings
from qwen_lsp.server.config import load_settings
from tiny_gguf import write_tiny_qwen_gguf

EVAL_REPO = Path(__file__).resolve().parents[1] / "fixtures" / "eval_repo"
QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")


class PromptAwareBackend(ScriptedBackend):
    """Answers 'seen' when the prompt shows a callee's definition body (they carry a marker), else 'unseen'."""

    async def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel):
        self.replies.append("seen" if "CALLEE-MARKER" in prompt.text else "unseen")
        async for chunk in super().stream_fim(prompt, params, cancel):
            yield chunk


def test_variant_settings() -> None:
    served, _ = load_settings({"completion": {"max_suffix_chars": 300}, "context": {"budget_tokens": 1024}})
    assert variant_settings(served, "context") == served
    assert variant_settings(served, "no_context").context.tokens_per_completion == 0
    longer = variant_settings(served, "no_context_suffix2000")
    assert (longer.completion.max_suffix_chars, longer.context.tokens_per_completion) == (2000, 0)
    larger = variant_settings(served, "context_budget2048")
    assert (larger.completion.max_suffix_chars, larger.context.tokens_per_completion) == (300, 2048)
    both = variant_settings(served, "context_budget2048_suffix2000")
    assert (both.completion.max_suffix_chars, both.context.tokens_per_completion) == (2000, 2048)
    assert served.completion.max_suffix_chars == 300 and served.context.tokens_per_completion == 1024  # untouched
    for unknown in ("context_prefix9", "context_suffix2000_budget2048", "context_budget"):
        with pytest.raises(ValueError):
            variant_settings(served, unknown)


def test_a_budget_variant_gives_the_served_pipeline_its_own_context_budget(tmp_path: Path) -> None:
    settings, _ = load_settings({}, {"context": {"budget_tokens": 1024}})
    backend = PromptAwareBackend(name="stand-in")
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    engine.start([EVAL_REPO])
    try:
        report = evaluate_with_model(
            engine, settings, 20, 3, ["context", "context_budget8"], backend_factory=lambda s: backend
        )
    finally:
        engine.stop()
    found_after = [r for r in report.results if r.found and r.position == "after_call"]
    assert found_after and all(r.completions["context"] == "seen" for r in found_after)
    # 8 tokens hold no definition: the same cursors complete as without context
    assert {r.completions["context_budget8"] for r in report.results} == {"unseen"}
    order = completion_order(report.results, report.variants)
    lengths = {
        v: sum(len(p.text) for p, (_, w) in zip(backend.prompts, order, strict=True) if w == v) for v in report.variants
    }
    assert lengths["context_budget8"] < lengths["context"]


def test_completions_go_through_the_served_pipeline(tmp_path: Path) -> None:
    settings, _ = load_settings({}, {"context": {"budget_tokens": 2048}})
    backend = PromptAwareBackend(name="stand-in")
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    engine.start([EVAL_REPO])
    try:
        report = evaluate_with_model(
            engine,
            settings,
            20,
            3,
            ["context", "no_context", "no_context_suffix2000"],
            backend_factory=lambda s: backend,
        )
    finally:
        engine.stop()
    assert report.cases == len(backend.prompts) // 3 > 0  # one model call per case and variant
    by_variant = {v: [r.completions[v] for r in report.results] for v in report.variants}
    assert set(by_variant["no_context"]) == {"unseen"}  # no repository context: no definition in the prompt
    # after 'name(' the callee's whole definition is in the prompt; before the name an outline may stand for it
    assert all(r.completions["context"] == "seen" for r in report.results if r.found and r.position == "after_call")
    assert any(r.found for r in report.results)
    # the served file window: 300 characters of suffix at most, unless the variant asks for more
    suffixes = [p.text.rsplit("<|fim_suffix|>", 1)[1].split("<|fim_middle|>")[0] for p in backend.prompts]
    order = completion_order(report.results, report.variants)
    assert max(len(s) for s, (_, v) in zip(suffixes, order, strict=True) if v != "no_context_suffix2000") <= 300
    assert max(len(s) for s, (_, v) in zip(suffixes, order, strict=True) if v == "no_context_suffix2000") > 300
    assert set(report.cells["qualified/before_name"].exact) == {"context", "no_context", "no_context_suffix2000"}


def _repository_larger_than_the_served_prompt(root: Path) -> Path:
    """Eight helpers whose code is like the lines before the cursor (more similar code than 1,024 tokens hold),
    called from a file with far more than 2,000 characters after each call."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    for k in range(8):
        body = "".join(
            f"    total = clamp_total(total * scale, lower_{i}, upper_{i})  # stage {i} of {k}\n" for i in range(16)
        )
        (root / "pkg" / f"tools_{k}.py").write_text(f"def helper_{k}(total, scale=1):\n{body}    return total + {k}\n")
    for j in range(40):  # unrelated code: words every helper shares still tell the helpers apart from the rest
        (root / "pkg" / f"other_{j}.py").write_text(f"NAME_{j} = 'other {j}'\n")
    imports = "".join(f"from pkg.tools_{k} import helper_{k}\n" for k in range(8))
    steps = "".join(f"    value = clamp_total(value * {i}, lower_{i}, upper_{i})\n" for i in range(16))
    calls = "".join(f"    part_{k} = helper_{k}(value, {k + 2})\n" for k in range(8))
    filler = "".join(
        f"\n\ndef step_{i}(value):\n    return value + {i}  # one more stage of the run\n" for i in range(60)
    )
    (root / "app.py").write_text(f"{imports}\n\ndef run(value):\n{steps}{calls}    return part_0{filler}")
    return root


def test_the_suffix_and_budget_variants_change_what_the_prompt_holds(tmp_path: Path) -> None:
    """``_suffix2000``: up to 2,000 characters after the cursor instead of the served 300; ``_budget2048``: more
    repository context than the served 1,024 tokens, the same file window."""
    settings, _ = load_settings({}, {})
    assert (settings.completion.max_suffix_chars, settings.context.budget_tokens) == (300, 1024)
    backend = PromptAwareBackend(name="stand-in")
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    engine.start([_repository_larger_than_the_served_prompt(tmp_path / "repo")])
    variants = ["context", "context_suffix2000", "context_budget2048"]
    try:
        report = evaluate_with_model(engine, settings, 2, 0, variants, backend_factory=lambda s: backend)
    finally:
        engine.stop()
    assert report.cases >= 2 and len(backend.prompts) == report.cases * len(variants)
    prompts = {key: p.text for key, p in zip(completion_order(report.results, variants), backend.prompts, strict=True)}

    def suffix(text: str) -> str:
        return text.rsplit("<|fim_suffix|>", 1)[1].split("<|fim_middle|>")[0]

    def context(text: str) -> str:  # the other files' blocks, before the current file's header
        return text.rsplit("<|file_sep|>", 1)[0]

    grown = []
    for i in range(report.cases):
        served, longer, larger = (prompts[i, v] for v in variants)
        assert len(suffix(served)) <= 300 and suffix(longer).startswith(suffix(served))
        assert 1500 < len(suffix(longer)) <= 2000  # cut at a line end: most of the 2,000 characters
        assert suffix(larger) == suffix(served) and larger.endswith(served.rsplit("<|file_sep|>", 1)[1])
        sizes = backend.count_tokens(context(served)), backend.count_tokens(context(larger))
        assert sizes[0] <= 1024 and sizes[1] <= 2048
        # before the name the budget is filled (similar code); after 'name(' with its definition found, what scores
        # far below it is left out at any budget
        assert sizes[0] < sizes[1] if report.results[i].position == "before_name" else sizes[0] <= sizes[1]
        grown.append(sizes[1] > 1024)
    assert any(grown)


class SlowPromptBackend(PromptAwareBackend):
    """Says every prompt takes seconds to read (a cold prompt on a CPU): the server would answer first from a
    shorter prompt without the repository context."""

    def uncached_ms(self, prompt: Prompt) -> float:
        return 10.0 * len(prompt.text)


def test_every_completion_reads_the_full_prompt_in_an_order_that_shares_prompt_starts(tmp_path: Path) -> None:
    settings, _ = load_settings({}, {"context": {"budget_tokens": 2048}})
    assert settings.completion.prompt_budget_ms > 0  # the served default: a slow prompt gets a quick one first
    backend = SlowPromptBackend(name="stand-in")
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    engine.start([EVAL_REPO])
    variants = ["context", "context_suffix2000", "no_context", "no_context_suffix2000"]
    try:
        report = evaluate_with_model(engine, settings, 20, 3, variants, backend_factory=lambda s: backend)
    finally:
        engine.stop()
    assert not any(p.document.endswith("#quick") for p in backend.prompts)
    assert len(backend.prompts) == report.cases * len(variants)  # every answer from the model (none from a cache)
    assert all(r.completions["context"] == "seen" for r in report.results if r.found and r.position == "after_call")
    order = completion_order(report.results, report.variants)
    assert sorted(order) == sorted((i, v) for i in range(report.cases) for v in variants)
    # the longer suffix comes right after the shorter one at the same site, with the same context setting: the
    # prompt up to the suffix is mostly the same (the context may leave out what the longer suffix shows), so a local
    # model reads only the rest of the suffix again
    shared = []
    for (i, variant), prompt, (j, previous), before in zip(
        order[1:], backend.prompts[1:], order, backend.prompts, strict=False
    ):  # each with the one before
        if variant.endswith("_suffix2000"):
            results = report.results
            assert (results[i].path, results[i].line) == (results[j].path, results[j].line)
            assert previous.startswith(variant.removesuffix("_suffix2000"))
            if i == j:
                shared.append(prompt.text.startswith(before.text.split("<|fim_suffix|>")[0]))
    assert sum(shared) > len(shared) / 2


class OracleBackend(ScriptedBackend):
    """Answers with the real rest of the line, read from the file on disk (the eval masks it in the document)."""

    async def stream_fim(self, prompt: Prompt, params: GenerationParams, cancel):
        typed = prompt.text.split("<|fim_suffix|>")[0].rsplit("\n", 1)[-1]
        lines = Path(unquote(urlparse(prompt.document).path)).read_text().splitlines()
        self.replies.append(next(line[len(typed) :] for line in lines if typed and line.startswith(typed)))
        async for chunk in super().stream_fim(prompt, params, cancel):
            yield chunk


def test_each_cursor_is_completed_by_the_model_not_from_another_cursors_answer(tmp_path: Path) -> None:
    settings, _ = load_settings({}, {})
    backend = OracleBackend(name="stand-in")
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    engine.start([EVAL_REPO])
    variants = ["no_context", "no_context_suffix2000"]
    try:
        report = evaluate_with_model(engine, settings, 2, 3, variants, backend_factory=lambda s: backend)
    finally:
        engine.stop()
    # after 'name(' follows 'name(' completed at the name: the served cache would answer it as typed-through
    assert len(backend.prompts) == report.cases * len(variants)
    assert report.overall.exact == {"no_context": 1.0, "no_context_suffix2000": 1.0}


@pytest.mark.slow
def test_the_command_on_a_tiny_real_model(tmp_path: Path) -> None:
    model = write_tiny_qwen_gguf(tmp_path / "tiny.gguf", arch="qwen2")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env.update(
        {
            "QWEN_LSP_BACKEND__LOCAL__MODEL": str(model),
            "QWEN_LSP_BACKEND__LOCAL__N_THREADS": "1",
            "QWEN_LSP_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    done = subprocess.run(
        [QWEN_LSP, "eval", "--root", str(EVAL_REPO), "--n", "2", "--json", "--suffix-chars", "900"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["variants"] == ["context", "no_context", "context_suffix900", "no_context_suffix900"]
    assert report["cases"] == 8 and set(report["cells"]) == {
        "bare/after_call",
        "bare/before_name",
        "qualified/after_call",
        "qualified/before_name",
    }
    assert all(set(r["completions"]) == set(report["variants"]) for r in report["results"])
    assert set(report["cells"]["bare/before_name"]["exact"]) == set(report["variants"])
    done = subprocess.run(
        [QWEN_LSP, "eval", "--root", str(EVAL_REPO), "--n", "2", "--no-model"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "qualified   before_name" in done.stdout and "callee definition in the context" in done.stdout
