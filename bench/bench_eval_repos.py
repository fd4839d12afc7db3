"""Definition recall of the repository context on real repositories, by language × call form × cursor position.

Fetches pinned releases from the registries (PyPI wheels, npm packages with their sources, Debian source packages
for Go, Rust and Java), caches them under the user cache dir, runs the retrieval part of ``qwen-lsp eval`` (no model)
on each, prints a table and stores the figures in bench/results/eval_repos.json under ``--label`` (other labels in
the file are kept, so a baseline and later runs sit side by side). ``--model`` adds the model-based part on a few
call sites per repository (the served completion pipeline with and without repository context).

    python bench/bench_eval_repos.py [--label baseline] [--repos requests rich ...] [--sites 40] [--seed 0]
    python bench/bench_eval_repos.py --label model-0.5b --model qwen2.5-coder-0.5b --sites 3 \\
        --repos rich mobx viper clap jsoup --variants context no_context no_context_suffix2000
    python bench/bench_eval_repos.py --model-markdown model-0.5b   # its figures by language and by form × position
    python bench/bench_eval_repos.py --compare model-0.5b-v3-before:no_context model-0.5b-v3:context
        # exact match of two (label, variant) pairs on the cases both completed, paired, with a sign test
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from qwen_lsp.context.evaluation.cases import POSITIONS, TYPED_CHARS

RESULTS = Path(__file__).resolve().parent / "results" / "eval_repos.json"


@dataclass(frozen=True)
class Repo:
    name: str
    language: str
    registry: str  # "pypi" (wheel), "pypi-sdist" (source tarball), "npm" (package tarball) or "debian" (.orig tarball)
    package: str  # pinned: the figures must be comparable between runs
    keep: str = ""  # sub-folder of the unpacked package that holds the sources ("" = all)
    held_out: bool = False  # measured to check that the rules are general, never tuned on: a row of its own
    drop: tuple[str, ...] = ()  # globs of files left out (another language's bindings, sampled otherwise)


REPOS = (
    Repo("requests", "python", "pypi", "requests==2.34.2"),
    Repo("rich", "python", "pypi", "rich==15.0.0"),
    Repo("mobx", "typescript", "npm", "mobx@7.1.3", "package/src"),
    Repo("axios", "javascript", "npm", "axios@1.21.1", "package/lib"),
    Repo("viper", "go", "debian", "golang-github-spf13-viper=1.10.1-1"),
    Repo("cobra", "go", "debian", "golang-github-spf13-cobra=1.6.1-1"),
    Repo("clap", "rust", "debian", "rust-clap=4.0.32-1"),
    Repo("jsoup", "java", "debian", "jsoup=1.15.3-1"),
    # held out at first; its misses were then read to write the Java rules, so it counts as tuned on
    Repo("jackson-core", "java", "debian", "jackson-core=2.14.1-2~deb12u1"),
    # a Rust extension's source tarball carries its whole crates (no Rust crate could be fetched from Debian)
    # held out until their misses were read to write the cross-crate and module-path rules
    Repo("cryptography-rust", "rust", "pypi-sdist", "cryptography==41.0.7", "cryptography-41.0.7/src/rust"),
    Repo("hcl", "go", "debian", "golang-github-hashicorp-hcl=1.0.0-1.1"),
    Repo("rxjs", "typescript", "npm", "rxjs@7.8.2", "package/src", held_out=True),
    # held out, added once jackson-core had been looked at: one more per language the rules were tuned on
    Repo("httpx", "python", "pypi", "httpx==0.27.2", held_out=True),
    Repo("express", "javascript", "npm", "express@4.21.2", "package/lib", held_out=True),
    Repo("commons-io", "java", "debian", "commons-io=2.11.0-2", held_out=True),
    # added before the cross-crate and module-path rules, held out: a library crate with its Python bindings'
    # crate depending on it by path (its misses were read once measured: label recall4-blind holds that run), and
    # a Go module whose packages are imported by module path
    Repo("tokenizers", "rust", "pypi-sdist", "tokenizers==0.15.2", "tokenizers-0.15.2", drop=("**/*.py", "**/*.pyi")),
    Repo("afero", "go", "debian", "golang-github-spf13-afero=1.9.3-1", held_out=True),
    # added once the cross-crate rules were written (tokenizers had been looked at): a large single crate, held out
    # until its misses were read (label heldout2-blind: bare calls after '(' 45%, from 'use super::x' sent one
    # level too high), and a small workspace whose bindings' crate uses the library crate by path, held out
    Repo(
        "pydantic-core",
        "rust",
        "pypi-sdist",
        "pydantic_core==2.14.6",
        "pydantic_core-2.14.6",
        drop=("**/*.py", "**/*.pyi"),
    ),
    Repo("jiter", "rust", "pypi-sdist", "jiter==0.5.0", "jiter-0.5.0", held_out=True, drop=("**/*.py", "**/*.pyi")),
)


def cache_root() -> Path:
    return Path(os.environ.get("QWEN_LSP_BENCH_REPOS") or platformdirs.user_cache_dir("qwen-lsp")) / "bench-repos"


def _unpack(archive: Path, into: Path) -> None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            wheel.extractall(into)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")


def _sdist(package: str, tmp: Path) -> Path:
    """A source tarball from the index's simple page, its sha256 checked: ``pip download`` would build its
    metadata first, which for a maturin package means cargo resolving every crate from crates.io."""
    name, version = package.split("==")
    page = urllib.request.urlopen(f"https://pypi.org/simple/{name}/", timeout=60).read().decode()
    url, sha256 = re.findall(rf'href="([^"#]*/{re.escape(name)}-{re.escape(version)}\.tar\.gz)#sha256=(\w+)"', page)[0]
    data = urllib.request.urlopen(url, timeout=300).read()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise RuntimeError(f"{url}: sha256 differs from the index's")
    archive = tmp / url.rsplit("/", 1)[1]
    archive.write_bytes(data)
    return archive


def _download(repo: Repo, tmp: Path) -> Path:
    if repo.registry == "pypi-sdist":
        return _sdist(repo.package, tmp)
    if repo.registry == "pypi":
        download = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(tmp)]
        subprocess.run([*download, repo.package], check=True)
        return next(tmp.glob("*.whl"))
    if repo.registry == "npm":
        subprocess.run(
            ["npm", "pack", repo.package, "--pack-destination", str(tmp), "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return next(tmp.glob("*.tgz"))
    # Debian: needs deb-src in the apt sources; only the upstream tarball is used
    subprocess.run(
        ["apt-get", "source", "--download-only", "-qq", repo.package], check=True, cwd=tmp, stdout=subprocess.DEVNULL
    )
    return next(tmp.glob("*.orig.tar.*"))


def fetch(repo: Repo) -> Path:
    """The repository's folder in the cache, downloaded and unpacked on first use."""
    target = cache_root() / repo.name
    if target.exists():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        unpacked = Path(tmp) / "unpacked"
        _unpack(_download(repo, Path(tmp)), unpacked)
        source = unpacked / repo.keep if repo.keep else unpacked
        entries = list(source.iterdir())
        if not repo.keep and len(entries) == 1 and entries[0].is_dir():  # a tarball's single top folder
            source = entries[0]
        for pattern in repo.drop:
            for path in source.glob(pattern):
                path.unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target)
    return target


# --- the evaluation ----------------------------------------------------------------------------------------------


def evaluate_repo(
    folder: Path, sites: int, seed: int, model: str | None, variants: list[str], gather_timeout_ms: float
) -> dict:
    from qwen_lsp.context.evaluation.run import evaluate
    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.server.cli.eval import served_window
    from qwen_lsp.server.config import env_overrides, load_settings
    from qwen_lsp.server.context_wiring import context_options

    overrides: dict = {"context": {"gather_timeout_ms": gather_timeout_ms}}
    if model:
        overrides["backend"] = {"local": {"model": model, "n_threads": 1}}
    settings, _ = load_settings(env_overrides(), overrides)
    with tempfile.TemporaryDirectory() as cache:
        engine = RepositoryContext(context_options(settings.context), cache_dir=Path(cache))
        started = time.perf_counter()
        engine.start([folder])
        index_s = time.perf_counter() - started
        try:
            if model:
                from qwen_lsp.server.cli.eval import evaluate_with_model

                report = evaluate_with_model(engine, settings, sites, seed, variants)
            else:
                report = evaluate(
                    engine, sites, seed, budget_tokens=settings.context.budget_tokens, window=served_window(settings)
                )
        finally:
            engine.stop()
    out = report.to_dict(with_results=model is not None)
    out["misses"] = [
        f"{r.form}/{r.position} {r.path}:{r.line + 1}:{r.column + 1} {r.callee} -> {r.definition_path}"
        for r in report.results
        if not r.found
    ]
    out["index_s"] = round(index_s, 2)
    out["files"] = len(list(p for p in folder.rglob("*") if p.is_file()))
    return out


def group_of(name: str, report: dict) -> str:
    """The row a repository is summed into: its language, held-out repositories apart."""
    held_out = report.get("held_out", any(r.held_out for r in REPOS if r.name == name))
    return f"{report['language']} held out" if held_out else report["language"]


def by_language(repos: dict[str, dict]) -> dict[str, dict[str, dict]]:
    """Cells summed over the repositories of each language (held-out ones apart)."""
    out: dict[str, dict[str, dict]] = {}
    for name, report in repos.items():
        cells = out.setdefault(group_of(name, report), {})
        for key, cell in report["cells"].items():
            total = cells.setdefault(key, {"n": 0, "found": 0})
            total["n"] += cell["n"]
            total["found"] += cell["found"]
            total["recall"] = round(total["found"] / total["n"], 4) if total["n"] else 0.0
    return out


def print_table(label: str, repos: dict[str, dict]) -> None:
    header = ("repo", "language", "form", "after ( recall (n)", "before name recall (n)", "typing name recall (n)")
    rows = []
    for name, report in repos.items():
        language = report["language"]
        for form in ("bare", "qualified"):
            cells = [report["cells"].get(f"{form}/{position}") for position in POSITIONS]
            rows.append((name, language, form, *(f"{c['recall']:.0%} ({c['n']})" if c else "-" for c in cells)))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    print(f"[{label}]")
    for row in (header, *rows):
        print(" | ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)))
    print("context size (tokens of the snippets' text) p50 / p95:")
    print(
        "  "
        + ", ".join(
            f"{n} {r.get('context_tokens_p50', 0):.0f} / {r.get('context_tokens_p95', 0):.0f}" for n, r in repos.items()
        )
    )
    print("by language:")
    for language, cells in by_language(repos).items():
        print(f"  {language:<11}" + "  ".join(f"{k} {c['recall']:.0%} ({c['n']})" for k, c in cells.items()))
    if any("exact" in c for r in repos.values() for c in r["cells"].values()):
        print("exact match, with / without repository context:")
        for name, report in repos.items():
            for key, c in sorted(report["cells"].items()):
                if "exact" in c:
                    pairs = " ".join(f"{v} {x:.0%}" for v, x in c["exact"].items())
                    print(f"  {name} {key} (n {c['n']}): {pairs}")


def _row_cell(repos: dict[str, dict], members: list[str], key: str) -> dict | None:
    cells = [repos[name]["cells"].get(key) if name in repos else None for name in members]
    if any(c is None for c in cells):
        return None
    n, found = sum(c["n"] for c in cells), sum(c["found"] for c in cells)  # type: ignore[index]
    return {"n": n, "found": found, "recall": found / n if n else 0.0}


def markdown_table(labels: list[str], positions: tuple[str, ...] = ("after_call", "before_name")) -> str:
    """Recall by language × call form × position from stored runs, the labels side by side (README)."""
    runs = json.loads(RESULTS.read_text())["runs"]
    keys = [f"{form}/{position}" for form in ("bare", "qualified") for position in positions]
    lines = [
        "| language (repositories) | "
        + " | ".join(
            k.replace("/", ", ")
            .replace("after_call", "after `(`")
            .replace("before_name", "before the name")
            .replace("typing_name", f"{TYPED_CHARS} characters typed")
            for k in keys
        )
        + " |",
        "|---" * (len(keys) + 1) + "|",
    ]
    last = runs[labels[-1]]
    for language in last["by_language"]:
        members = [n for n, r in last["repos"].items() if group_of(n, r) == language]
        names = ", ".join(members)
        row = []
        for key in keys:
            # each label summed over the last label's repositories of the row (a label without one of them: -)
            figures = [_row_cell(runs[label]["repos"], members, key) for label in labels]
            shown = " → ".join(f"{c['recall']:.0%}" if c else "-" for c in figures)
            row.append(f"{shown} ({figures[-1]['n'] if figures[-1] else 0})")
        lines.append(f"| {language} ({names}) | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _short(variant: str) -> str:
    return variant.replace("no_context", "none").replace("context", "ctx").replace("_suffix", " sfx")


def model_tables(label: str) -> str:
    """The model-based figures of a stored run, per variant: by language and by call form × cursor position
    (n per row), from the per-case results, so a weakness cannot hide in an average. Completion times depend on
    the order (a prompt sharing its start with the previous one is read in part); prompt tokens do not."""
    from qwen_lsp.context.evaluation.run import CaseResult, summarize

    run = json.loads(RESULTS.read_text())["runs"][label]
    results = [CaseResult(**r) for repo in run["repos"].values() for r in repo.get("results", [])]
    variants = list(dict.fromkeys(v for r in results for v in r.completions))
    report = summarize(results, variants)
    rows = [(f"all ({', '.join(run['repos'])})", report.overall)]
    rows += [(language, summarize([r for r in results if r.language == language], variants).overall)
             for language in report.languages]  # fmt: skip
    rows += [(key.replace("/", ", "), cell) for key, cell in report.cells.items()]
    formats = {
        "exact": lambda x: f"{x:.0%}",
        "similarity": lambda x: f"{x:.2f}",
        "named": lambda x: f"{x:.0%}",
        "prompt_tokens_p50": lambda x: f"{x:.0f}",
        "complete_p50_ms": lambda x: f"{x / 1000:.0f} s",
    }
    names = " / ".join(_short(v) for v in variants)
    lines = [
        "| cases (n) | " + " | ".join(f"{column} ({names})" for column in formats) + " |",
        "|---" * (len(formats) + 1) + "|",
    ]
    for name, cell in rows:
        shown = [
            " / ".join(show(getattr(cell, column)[v]) if v in getattr(cell, column) else "-" for v in variants)
            for column, show in formats.items()
        ]
        lines.append(f"| {name} ({cell.n}) | " + " | ".join(shown) + " |")
    counts = " / ".join(str(sum(v in r.completions for r in results)) for v in variants)
    lines.append(f"\ncompletions per variant: {counts}; prompt evaluation {report.prompt_tokens_per_s} tokens/s")
    return "\n".join(lines)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test: the chance of a split at least this uneven if either side were as likely."""
    n = wins + losses
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)


def _cold_first_token(cases: list[dict]) -> str:
    """Seconds to the first token (p50) over the cases whose prompt was read (nearly) whole, not mostly reused from
    the previous one's KV cache: what a prompt costs when the cursor moves to another place."""
    from qwen_lsp.context.evaluation.run import percentile

    seconds = [
        c["first_token_ms"][c["variant"]] / 1000
        for c in cases
        if c["evaluated_tokens"].get(c["variant"], 0) >= 0.9 * c["prompt_tokens"].get(c["variant"], 1)
        and c["first_token_ms"].get(c["variant"])
    ]
    return f"{percentile(seconds, 50):.0f} s ({len(seconds)})" if seconds else "-"


def compare(pairs: list[str]) -> str:
    """Exact match, edit similarity and (before the name) whether the completion names the callee, of
    ``label:variant`` pairs on the cases all of them completed (matched by repository, file, cursor), by language
    and by call form × cursor position; the first pair against each other one: cases right in one only, and the
    sign test's p. ``a+b:variant`` takes the variant's cases from either run (one that the
    later run did not repeat)."""
    from qwen_lsp.context.evaluation.run import edit_similarity, percentile

    runs = json.loads(RESULTS.read_text())["runs"]
    chosen = [tuple(pair.split(":", 1)) for pair in pairs]
    tables: list[dict[tuple, dict]] = []
    for labels, variant in chosen:
        cases: dict[tuple, dict] = {}
        for label in labels.split("+"):
            for repo, report in runs[label]["repos"].items():
                for r in report.get("results", []):
                    key = (repo, r["path"], r["line"], r["column"])
                    if variant in r["completions"] and key not in cases:
                        cases[key] = {**r, "repo": repo, "variant": variant}
        tables.append(cases)
    common = sorted(set.intersection(*(set(t) for t in tables)))
    languages: dict[str, list[tuple]] = {}
    cells: dict[str, list[tuple]] = {}
    for key in common:
        r = tables[0][key]
        languages.setdefault(r["language"], []).append(key)
        cells.setdefault(f"{r['form']}, {r['position']}", []).append(key)
    groups = {"all": common, **dict(sorted(languages.items())), **dict(sorted(cells.items()))}
    completed = [{k: t[k]["completions"][t[k]["variant"]] for k in common} for t in tables]
    right = [{k: done[k] == t[k]["expected"] for k in common} for t, done in zip(tables, completed, strict=True)]
    names = [f"{label} {variant}" for label, variant in chosen]
    paired_names = " | ".join(f"right only in {names[0]} vs {n} (sign test p)" for n in names[1:])
    lines = [
        f"| cases (n) | exact ({' / '.join(names)}) | edit similarity | callee named (before the name) "
        f"| prompt tokens p50 | first token p50, prompts read whole (n) | {paired_names} |",
        "|---" * (len(names) + 5) + "|",
    ]
    for group, keys in groups.items():
        exact = " / ".join(f"{sum(r[k] for k in keys) / len(keys):.0%}" for r in right)
        similarity = " / ".join(
            f"{sum(edit_similarity(done[k], t[k]['expected']) for k in keys) / len(keys):.2f}"
            for t, done in zip(tables, completed, strict=True)
        )
        naming = [k for k in keys if tables[0][k]["position"] == "before_name"]
        named = " / ".join(
            f"{sum(done[k].startswith(t[k]['callee']) for k in naming) / len(naming):.0%}" if naming else "-"
            for t, done in zip(tables, completed, strict=True)
        )
        tokens = " / ".join(
            f"{percentile([t[k]['prompt_tokens'].get(t[k]['variant'], 0) for k in keys], 50):.0f}" for t in tables
        )
        first_token = " / ".join(_cold_first_token([t[k] for k in keys]) for t in tables)
        paired = []
        for other in right[1:]:
            first_only = sum(right[0][k] and not other[k] for k in keys)
            other_only = sum(other[k] and not right[0][k] for k in keys)
            paired.append(f"{first_only} vs {other_only} (p {sign_test(first_only, other_only):.2f})")
        lines.append(
            f"| {group} ({len(keys)}) | {exact} | {similarity} | {named} | {tokens} | {first_token} | "
            + " | ".join(paired)
            + " |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", nargs="+", choices=[r.name for r in REPOS], default=[r.name for r in REPOS])
    parser.add_argument("--label", default="current", help="key of this run in the JSON (default: current)")
    parser.add_argument("--sites", type=int, default=40, help="call sites per call form (each at both positions)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", help="model preset or .gguf path: add the model-based part (slow)")
    parser.add_argument("--fetch-only", action="store_true", help="download and unpack, nothing else")
    parser.add_argument(
        "--gather-timeout-ms",
        type=float,
        default=1000.0,
        help="context time budget per request (default 1000: what is found, whatever the machine's "
        "load; the served 8 ms budget is measured by bench_context.py)",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["context", "no_context"],
        help="with --model: context, no_context, and either with _budgetN (N tokens of repository context) "
        "and/or _suffixN (N characters of suffix), in that order: context_budget2048_suffix2000",
    )
    parser.add_argument("--markdown", nargs="+", metavar="LABEL", help="print the stored runs' table and exit")
    parser.add_argument(
        "--positions",
        nargs="+",
        choices=POSITIONS,
        default=["after_call", "before_name"],
        help="with --markdown: the cursor positions shown (typing_name: the name's first characters typed)",
    )
    parser.add_argument("--model-markdown", metavar="LABEL", help="print a stored model run's tables and exit")
    parser.add_argument(
        "--compare", nargs="+", metavar="LABEL:VARIANT", help="paired exact match of stored model runs, and exit"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown_table(args.markdown, tuple(args.positions)))
        return
    if args.model_markdown:
        print(model_tables(args.model_markdown))
        return
    if args.compare:
        print(compare(args.compare))
        return
    variants = args.variants
    chosen = [r for r in REPOS if r.name in args.repos]
    folders = {r.name: fetch(r) for r in chosen}
    if args.fetch_only:
        for name, folder in folders.items():
            print(name, folder)
        return
    results: dict[str, dict] = {}
    commit = _commit()  # of the code measured, even if the worktree changes during a long run
    for repo in chosen:
        print(f"evaluating {repo.name} ...", file=sys.stderr)
        results[repo.name] = {
            "language": repo.language,
            "package": f"{repo.registry}:{repo.package}",
            "sites_per_form": args.sites,  # a run continued repository by repository may use other sample sizes
            "held_out": repo.held_out,
            **evaluate_repo(folders[repo.name], args.sites, args.seed, args.model, variants, args.gather_timeout_ms),
        }
        write_run(args, commit, results)  # after each repository: a long model run keeps what it measured
    print_table(args.label, results)
    print(f"wrote {RESULTS} [{args.label}]")


def write_run(args: argparse.Namespace, commit: str, results: dict[str, dict]) -> None:
    """Store the run under its label; repositories measured earlier under the same label and not in this run are
    kept (a long model run can be continued repository by repository)."""
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    repos = {**stored.get("runs", {}).get(args.label, {}).get("repos", {}), **results}
    stored.setdefault("runs", {})[args.label] = {
        "commit": commit,
        "sites_per_form": args.sites,
        "gather_timeout_ms": args.gather_timeout_ms,
        "seed": args.seed,
        "model": args.model,
        "load_avg": os.getloadavg()[0],
        "by_language": by_language(repos),
        "repos": repos,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(stored, indent=2) + "\n")


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
    )
    return out.stdout.strip()


if __name__ == "__main__":
    main()
