"""What gets indexed: ignore rules, default excludes, and bad input (huge, binary, not UTF-8, minified, deeply
nested, symlink loops, unreadable, deleted while indexing, corrupt database)."""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
from pathlib import Path

import pytest

from qwen_lsp.context.index.files import FileEntry, indexable, walk_folder
from qwen_lsp.context.index.indexer import Indexer, ScanStats
from qwen_lsp.context.index.repo_index import RepoIndex
from qwen_lsp.context.index.store import IndexStore, database_path
from qwen_lsp.context.index.worker import Worker
from qwen_lsp.context.settings import ContextOptions
from qwen_lsp.context.syntax.languages import language_for_path


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


def walked(root: Path, **kwargs: object) -> list[str]:
    return [entry.rel for entry in walk_folder(root, **kwargs)]  # type: ignore[arg-type]


def test_ignore_files_and_default_excludes(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            ".gitignore": "generated/\n*.gen.py\n!keep.gen.py\n",
            ".qwenignore": "secret_*.py\n",
            "src/app.py": "x = 1\n",
            "src/keep.gen.py": "x = 1\n",
            "src/drop.gen.py": "x = 1\n",
            "src/secret_keys.py": "x = 1\n",
            "src/nested/.gitignore": "local.py\n",
            "src/nested/local.py": "x = 1\n",
            "src/nested/ok.py": "x = 1\n",
            "generated/out.py": "x = 1\n",
            "node_modules/pkg/index.js": "x = 1\n",
            ".git/hooks/pre-commit.py": "x = 1\n",
            "build/lib/app.py": "x = 1\n",
            "env311/pyvenv.cfg": "home = /usr\n",
            "env311/lib/site.py": "x = 1\n",
            "web/app.min.js": "x=1\n",
            "README.md": "# not code\n",
            "src/configured.py": "x = 1\n",
        },
    )
    assert walked(root, exclude=["configured.py"]) == ["src/app.py", "src/keep.gen.py", "src/nested/ok.py"]
    assert indexable(root, "src/nested/local.py") is None
    assert indexable(root, "node_modules/pkg/index.js") is None
    assert indexable(root, "src/nested/ok.py") is not None


def test_symlinks_do_not_loop(tmp_path: Path) -> None:
    root = make(tmp_path / "r", {"a/code.py": "x = 1\n"})
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    (root / "self.py").symlink_to(root / "self.py")  # a link to itself: stat fails with ELOOP
    (root / "alias.py").symlink_to(root / "a" / "code.py")
    assert sorted(walked(root)) == ["a/code.py", "alias.py"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads everything")
def test_unreadable_folder_is_skipped(tmp_path: Path) -> None:
    root = make(tmp_path, {"open/a.py": "x = 1\n", "closed/b.py": "x = 1\n"})
    (root / "closed").chmod(0)
    try:
        assert walked(root) == ["open/a.py"]
    finally:
        (root / "closed").chmod(0o755)


@pytest.fixture
def indexer(tmp_path: Path):
    worker = Worker()
    index = RepoIndex()
    ix = Indexer(index, worker, ContextOptions(max_file_kb=64), tmp_path / "cache", lambda key: False)
    yield ix
    worker.stop()
    ix.close()


def test_bad_files_are_skipped_with_a_log_line(
    tmp_path: Path, indexer: Indexer, caplog: pytest.LogCaptureFixture
) -> None:
    deep = "x = " + ("(" * 100 + "\n") * 200 + (")" * 100 + "\n") * 200 + "def after_deep():\n    pass\n"
    root = make(
        tmp_path / "r",
        {
            "good.py": "def good():\n    pass\n",
            "huge.py": "x = 1\n" * 20_000,  # 120 KB, over the 64 KB limit
            "binary.py": b"\x00\x01\x02def x(): pass\n",
            "latin1.py": "name = 'caf\xe9'\n".encode("latin-1"),
            "minified.js": "var a=1;" * 5000,
            "deep.py": deep,
        },
    )
    caplog.set_level(logging.INFO, logger="qwen_lsp.context")
    stats = indexer.scan(root)
    keys = {record.rel for record in indexer.index.files.values()}
    assert keys == {"good.py", "deep.py"}
    assert {name for name, _ in indexer.index.symbols.items()} >= {"good", "after_deep"}
    log = caplog.text
    for fragment in (
        "huge.py: 117 KB is over the 64 KB limit",
        "binary.py: binary content",
        "latin1.py: not UTF-8",
        "minified.js: minified or generated",
    ):
        assert fragment in log
    assert stats.skipped == 3  # binary, latin1, minified (huge never gets past the walk)


def test_a_file_deleted_while_indexing_is_skipped(tmp_path: Path, indexer: Indexer) -> None:
    root = make(tmp_path / "r", {"gone.py": "def gone():\n    pass\n"})
    indexer.scan(root)
    assert "gone" in indexer.index.symbols
    entry = FileEntry(root / "gone.py", "gone.py", 20, 0, language_for_path("gone.py"))  # type: ignore[arg-type]
    (root / "gone.py").unlink()
    stats = ScanStats()
    indexer._index_file(indexer.folders[root.resolve().as_posix()], entry, stats)
    assert stats.skipped == 1 and "gone" not in indexer.index.symbols


def test_progress_reports_up_to_the_total(tmp_path: Path, indexer: Indexer) -> None:
    root = make(tmp_path / "r", {f"m{i}.py": f"def f{i}():\n    pass\n" for i in range(30)})
    seen: list[tuple[int, int]] = []
    indexer.scan(root, lambda done, total: seen.append((done, total)))
    assert seen[0] == (0, 30) and seen[-1] == (30, 30)
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))


def test_a_corrupt_database_is_rebuilt(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    path = database_path(tmp_path / "cache", folder)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    store = IndexStore(path)
    store.put("a.py", 1, 1, "h", (b"symbols", b"chunks"))
    store.commit()
    store.close()
    assert sqlite3.connect(path).execute("SELECT count(*) FROM files").fetchone() == (1,)


def test_an_unwritable_cache_keeps_the_index_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    store = IndexStore(database_path(blocker, tmp_path / "project"))
    assert store.path is None
    store.put("a.py", 1, 1, "h", (b"symbols", b"chunks"))
    assert store.files() == {"a.py": (1, 1, "h")}


def test_worker_processes_index_the_same_as_the_server_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files: dict[str, str | bytes] = {
        f"pkg/m{i}.py": f"from pkg.m{i + 1} import f{i + 1}\n\n\ndef f{i}(x):\n"
        f"    '''Doc {i}.'''\n    return f{i + 1}(x) + {i}\n"
        for i in range(80)
    }
    files["pkg/binary.py"] = b"\x00\x01 not text"
    root = make(tmp_path / "r", files)
    caplog.set_level(logging.INFO, logger="qwen_lsp.context")

    def index_with(processes: int) -> tuple[dict, int, ScanStats]:
        worker = Worker()
        index = RepoIndex()
        ix = Indexer(
            index, worker, ContextOptions(index_processes=processes), tmp_path / f"cache{processes}", lambda key: False
        )
        try:
            stats = ix.scan(root)
            table = {
                name: sorted((k.rsplit("/", 1)[-1], index.files[k].definitions[i].summary) for k, i in entries)
                for name, entries in index.symbols.items()
            }
            return table, index.window_count(), stats
        finally:
            worker.stop()
            ix.close()

    in_process = index_with(0)
    pooled = index_with(2)
    assert pooled[:2] == in_process[:2] and len(pooled[0]) == 80
    assert pooled[2].skipped == in_process[2].skipped == 1
    assert caplog.text.count("binary.py: binary content") == 2


def test_worker_pool_hands_results_back_in_job_order_when_batches_finish_out_of_order(tmp_path: Path) -> None:
    from qwen_lsp.context.index.extraction_pool import BATCH, WorkerPool
    from qwen_lsp.context.index.store import content_hash

    paths = []
    for i in range(BATCH * 6):
        # the first batch is slow (big files), so the other worker's later batches come back before it
        body = "".join(f"def g{j}(a):\n    return a + {j}\n" for j in range(3000)) if i < BATCH else f"x{i} = {i}\n"
        path = tmp_path / f"m{i}.py"
        path.write_text(body)
        paths.append(path)
    with WorkerPool(2, 10_000_000, 16) as pool:
        results = list(pool.extract((str(p), "python") for p in paths))
    assert [r[0] for r in results] == ["ok"] * len(paths)
    assert [r[1] for r in results] == [content_hash(p.read_bytes()) for p in paths]


def test_a_file_put_again_at_every_typing_pause_keeps_its_identifiers_rare() -> None:
    """Removed chunks stay in the postings until compacted; a file re-extracted at each pause of an editing session
    must not count its identifiers once more each time, or after ~50 pauses they look common and drop out of the
    similar-code query."""
    from qwen_lsp.context.index.windows import WindowIndex, make_chunks

    def lines(*names: str) -> list[str]:
        return [f"result = {name}(value, other_{name})" for name in names] * 4

    index = WindowIndex()
    index.set_file("/r/uses.py", make_chunks(lines("frobnicate_widget", "render", "compute")))
    for i in range(200):
        index.set_file(f"/r/noise{i}.py", make_chunks(lines(f"alpha{i}", f"beta{i}", f"gamma{i}")))
    chunks = len(make_chunks(lines("frobnicate_widget", "parse", "draft")))  # each holding every name
    for pause in range(120):  # the edited file, put again at each pause
        index.set_file("/r/edited.py", make_chunks(lines("frobnicate_widget", "parse", f"draft{pause}")))
        assert index.df("frobnicate_widget") <= 2 * chunks + (chunks if pause else 0), pause  # its first put: unknown
        assert index.df(f"draft{pause}") == chunks
    assert index.df("draft5") == 0  # gone from the file: not counted
    hits = index.search({"frobnicate_widget", "value"}, limit=4, skip=frozenset({"/r/edited.py"}))
    assert [h.key for h in hits][:1] == ["/r/uses.py"]
    index.remove_file("/r/edited.py")
    assert index.df("frobnicate_widget") <= 2 * chunks
