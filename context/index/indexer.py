"""Keeping the index in step with the workspace: folder scans, file-system changes, persistence.

Runs on the worker thread. A scan walks the folder, loads every file whose size and mtime match the database
without reading it (the warm path), drops deleted files, and indexes new or changed ones (reading, hashing,
re-using a stored extraction when the content hash is known, else parsing), reporting ``(done, total)``.
Files open in the editor are indexed from the editor's text instead (see ``repository.py``), so a scan or a
change event for them only updates the database.
"""

from __future__ import annotations

import logging
import marshal
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..settings import ContextOptions
from ..syntax.languages import warm_up_queries
from .extraction_pool import POOL_MIN_FILES, WorkerPool, process_count
from .files import IGNORE_FILES, FileEntry, IgnoreRules, decode_source, indexable, read_file, walk_folder
from .repo_index import RepoIndex, analyze
from .scan_progress import Progress, ScanReporter
from .store import FileData, IndexStore, content_hash, database_path, is_damage
from .windows import WindowIndex
from .worker import Worker

log = logging.getLogger(__name__)

_COMMIT_EVERY = 200


@dataclass
class FolderState:
    root: Path
    key: str  # root as a '/'-separated absolute path
    store: IndexStore
    stored: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # rel -> (size, mtime_ns, hash)
    scanned: bool = False
    snapshot_current: bool = False  # the saved window snapshot matches what is indexed
    interrupted: bool = False  # the last scan was cancelled: its snapshot is not worth saving
    ignore_rules: dict[str, IgnoreRules] = field(default_factory=dict)  # for change events; see files.indexable


@dataclass
class ScanStats:
    total: int = 0
    loaded: int = 0  # unchanged since the last run: loaded from the database
    parsed: int = 0
    reused: int = 0  # changed on disk, but a known content hash
    skipped: int = 0
    removed: int = 0
    from_snapshot: int = 0  # unchanged files whose chunks came from the saved window index
    seconds: float = 0.0


class Indexer:
    def __init__(
        self,
        index: RepoIndex,
        worker: Worker,
        options: ContextOptions,
        cache_dir: Path | None,
        is_open: Callable[[str], bool],
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        self.index = index
        self.on_problem = on_problem  # told once when a damaged database was moved aside
        self.worker = worker
        self.options = options
        self.cache_dir = cache_dir
        self.is_open = is_open
        self.folders: dict[str, FolderState] = {}
        self.last_scan: dict[str, ScanStats] = {}
        self.cancelled = False  # set by ``cancel``: long scans stop at the next file

    @property
    def max_bytes(self) -> int:
        return self.options.max_file_kb * 1024

    # --- jobs (worker thread) -------------------------------------------------------------------------------------

    def scan(self, root: Path, progress: Progress | None = None) -> ScanStats:
        root = Path(os.path.abspath(root))  # not resolved: keys must match the paths in the editor's URIs
        key = root.as_posix()
        state = self.folders.get(key)
        if state is None:
            path = database_path(self.cache_dir, root) if self.cache_dir and self.options.persist else None
            state = self.folders[key] = FolderState(root, key, IndexStore(path, self.on_problem))
            self.index.add_folder(key)
        stats = self._scan_recovering(state, progress)
        self.last_scan[key] = stats
        log.info(
            "context index: %s: %d files (%d unchanged, %d parsed, %d re-used, %d skipped, %d removed) in %.1f s",
            root,
            stats.total,
            stats.loaded,
            stats.parsed,
            stats.reused,
            stats.skipped,
            stats.removed,
            stats.seconds,
        )
        return stats

    def remove_folder(self, root: Path) -> None:
        key = Path(os.path.abspath(root)).as_posix()
        state = self.folders.pop(key, None)
        self.index.remove_folder(key)
        if state is not None:
            state.store.close()

    def files_changed(self, paths: list[Path]) -> None:
        rescan: set[str] = set()
        touched: set[str] = set()
        for path in paths:
            located = self.index.folder_of(path.absolute().as_posix())
            if located is None or located[0] not in self.folders:
                continue
            state = self.folders[located[0]]
            touched.add(state.key)
            try:
                if self._file_changed(state, path, located[1]):
                    rescan.add(state.key)
            except sqlite3.DatabaseError as exc:
                if not self._recover(state, exc):
                    raise
                rescan.add(state.key)
            self.worker.run_due()
        for key in rescan:
            self._scan_recovering(self.folders[key], None)
        for state in self.folders.values():
            state.store.commit()
            if state.key in touched:
                state.snapshot_current = False  # saved at the next scan or at shutdown (``save_snapshots``)

    def _file_changed(self, state: FolderState, path: Path, rel: str) -> bool:
        """Take one changed path into the index; True if the folder needs a scan instead."""
        if path.name in IGNORE_FILES or rel.startswith(".git/"):
            state.ignore_rules.clear()  # what is ignored may have changed
        if path.is_dir():
            state.ignore_rules.clear()
            return True  # a new folder (or a moved one): let the scan diff it
        if not path.exists():
            self._forget(state, [rel] + [r for r in state.stored if r.startswith(rel + "/")])
            return False
        spec = indexable(state.root, rel, self.options.exclude, state.ignore_rules)
        try:
            info = path.stat()
        except OSError:
            info = None
        if spec is None or info is None:
            self._forget(state, [rel])
            return False
        self._index_file(state, FileEntry(path, rel, info.st_size, info.st_mtime_ns, spec), ScanStats())
        return False

    def _scan_recovering(self, state: FolderState, progress: Progress | None) -> ScanStats:
        try:
            return self._scan(state, progress)
        except sqlite3.DatabaseError as exc:
            if not self._recover(state, exc):
                raise
            return self._scan(state, progress)

    def _recover(self, state: FolderState, exc: sqlite3.DatabaseError) -> bool:
        """If ``exc`` says the folder's database is damaged: move it aside, start a fresh one (``on_problem`` is
        told) and forget what it held, so that a scan rebuilds it. False if ``exc`` is another error."""
        if not is_damage(exc):
            return False
        state.store.recover(exc)
        state.stored, state.scanned, state.snapshot_current = {}, False, False
        state.ignore_rules.clear()
        return True

    def save_snapshots(self) -> None:
        """Save the window index of every folder whose snapshot is out of date (worker thread, e.g. at shutdown)."""
        for state in list(self.folders.values()):
            if not state.snapshot_current and not state.interrupted:
                self.save_snapshot(state)

    def _save_if_stale(self, state: FolderState) -> None:
        if not state.snapshot_current and self.folders.get(state.key) is state and not self.cancelled:
            self.save_snapshot(state)

    def cancel(self) -> None:
        self.cancelled = True

    def close(self) -> None:
        for state in self.folders.values():
            state.store.close()
        self.folders.clear()

    # --- internals ------------------------------------------------------------------------------------------------

    def _forget(self, state: FolderState, rels: list[str]) -> None:
        gone = [rel for rel in rels if rel in state.stored]
        for rel in rels:
            key = f"{state.key}/{rel}"
            if not self.is_open(key):
                self.index.remove(key)
            state.stored.pop(rel, None)
        if gone:
            state.store.delete(gone)

    def _scan(self, state: FolderState, progress: Progress | None) -> ScanStats:
        started = time.perf_counter()
        stats = ScanStats()
        state.stored = state.store.files()
        state.ignore_rules.clear()  # ignore files may have changed since
        entries = list(
            walk_folder(state.root, self.options.exclude, self.options.max_files, self.max_bytes, state.ignore_rules)
        )
        stats.total = len(entries)
        reporter = ScanReporter(progress, stats.total)
        unchanged = {e.rel: e for e in entries if state.stored.get(e.rel, (-1, -1, ""))[:2] == (e.size, e.mtime_ns)}
        loaded = self._load_unchanged(state, unchanged, reporter, stats)
        stats.loaded = len(loaded)
        present = {e.rel for e in entries}
        removed = [rel for rel in state.stored if rel not in present]
        stats.removed = len(removed)
        self._forget(state, removed)
        with self.index.lock:
            stale = [
                k
                for k, r in self.index.files.items()
                if r.folder == state.key and r.rel not in present and not self.is_open(k)
            ]
        for key in stale:
            self.index.remove(key)
        state.store.begin()
        # largest first: the big files are spread over the worker processes, and none is left for last alone
        todo = sorted((e for e in entries if e.rel not in loaded), key=lambda e: -e.size)
        done = self._index_in_processes(state, todo, stats, reporter) if self._pool_size(len(todo)) else 0
        for count, entry in enumerate(todo[done:]):
            if self.cancelled:
                break
            self.worker.run_due()  # keep the document being edited fresh during long scans
            self._index_file(state, entry, stats)
            reporter.step()
            if count % _COMMIT_EVERY == _COMMIT_EVERY - 1:
                state.store.commit()
                state.store.begin()
        state.store.commit()
        state.interrupted = self.cancelled
        if self.cancelled:  # shutting down: what is stored is consistent; the next start carries on from it
            stats.seconds = time.perf_counter() - started
            return stats
        if removed or stats.parsed:
            state.store.collect_garbage()
        if removed or stats.parsed or stats.reused or not state.snapshot_current:
            state.snapshot_current = False
            self.worker.submit(lambda: self._save_if_stale(state))  # after the scan: do not delay readiness
        reporter.finish()
        warm_up_queries({entry.language for entry in entries})
        stats.seconds = time.perf_counter() - started
        return stats

    def _load_unchanged(
        self, state: FolderState, unchanged: dict[str, FileEntry], reporter: ScanReporter, stats: ScanStats
    ) -> set[str]:
        """Put the files unchanged since they were stored into the index; return their paths.

        On a folder's first scan their chunks come from the window-index snapshot when it has them at the same
        content hash (no per-file rebuild); on later scans files already in memory are left alone."""
        first = not state.scanned
        state.scanned = True
        covered: set[str] = set()
        if first:
            covered = self._install_snapshot(state, unchanged)
            stats.from_snapshot = len(covered)
        loaded: set[str] = set()
        for rel, digest, blob in state.store.load_all():
            if self.cancelled:
                break
            if rel not in unchanged or blob is None:  # not on disk as stored, or damaged: index it again
                continue
            key = f"{state.key}/{rel}"
            record = self.index.files.get(key)
            if not first and record is not None and record.digest == digest:
                loaded.add(rel)  # nothing to do: in memory already
                reporter.step()
                continue
            try:
                chunks = None if rel in covered else state.store.chunks(digest)
                data = FileData.loads(blob, chunks)
            except (ValueError, EOFError, TypeError):
                continue  # damaged blob: index the file again
            if data.chunks:
                state.snapshot_current = False  # chunks the snapshot lacks
            if not self.is_open(key):
                self.index.put(key, state.key, rel, data, digest)
            loaded.add(rel)
            reporter.step()
        return loaded

    def _install_snapshot(self, state: FolderState, unchanged: dict[str, FileEntry]) -> set[str]:
        """Install the folder's saved window index, minus files changed since; return the paths it covers."""
        try:
            blob = state.store.snapshot()
            if blob is None:
                return set()
            signature, exported = marshal.loads(blob)
            windows = WindowIndex.load(exported)
        except (ValueError, EOFError, TypeError):
            log.info("context index: window snapshot of %s unusable; rebuilding it", state.root)
            return set()
        covered: set[str] = set()
        prefix = state.key + "/"
        state.snapshot_current = True
        for key in list(windows.by_file):
            rel = key[len(prefix) :] if key.startswith(prefix) else None
            stored = state.stored.get(rel) if rel is not None else None
            if rel in unchanged and stored is not None and signature.get(key) == stored[2]:
                covered.add(rel)
            else:
                windows.remove_file(key)
                state.snapshot_current = False
        self.index.install_windows(state.key, windows)
        return covered

    def save_snapshot(self, state: FolderState) -> None:
        """Persist the folder's window index (files as indexed from disk, not unsaved editor text).

        Runs on the worker thread, the index's only writer, so it reads without the lock: requests go on."""
        windows = self.index.window_indexes.get(state.key)
        if windows is None:
            return
        signature = {
            key: record.digest
            for key in list(windows.by_file)
            if (record := self.index.files.get(key)) is not None and record.digest
        }
        exported = windows.export(set(signature))
        try:
            state.store.save_snapshot(marshal.dumps((signature, exported)))
            state.store.commit()
        except sqlite3.DatabaseError as exc:
            if not self._recover(state, exc):
                raise
            if not self.cancelled:
                self.worker.submit(lambda: self._scan_recovering(state, None))
            return
        state.snapshot_current = True

    def _pool_size(self, files: int) -> int:
        wanted = self.options.index_processes
        if wanted == 0 or files < POOL_MIN_FILES:
            return 0
        return wanted if wanted is not None else process_count()

    def _index_in_processes(
        self, state: FolderState, todo: list[FileEntry], stats: ScanStats, reporter: ScanReporter
    ) -> int:
        """Index ``todo`` with worker processes; return how many were done (the rest falls back to this thread)."""
        done = 0
        try:
            with WorkerPool(self._pool_size(len(todo)), self.max_bytes, self.options.window_lines) as pool:
                jobs = ((str(e.path), e.language.name) for e in todo)
                # strict=False: a pool that ends early leaves the rest to this thread
                for entry, result in zip(todo, pool.extract(jobs), strict=False):
                    if self.cancelled:
                        pool.close(kill=True)  # their queued batches are not wanted any more
                        break
                    self.worker.run_due()
                    self._apply(state, entry, result, stats)
                    done += 1
                    reporter.step()
                    if done % _COMMIT_EVERY == 0:
                        state.store.commit()
                        state.store.begin()
        except sqlite3.DatabaseError:
            raise
        except Exception:  # noqa: BLE001 - no processes here (sandbox, broken pool): do the rest in this thread
            log.warning("context index: worker processes failed; indexing in the server process", exc_info=True)
        return done

    def _apply(self, state: FolderState, entry: FileEntry, result: tuple[Any, ...], stats: ScanStats) -> None:
        if result[0] != "ok":
            log.info("context index: skipping %s: %s", entry.rel, result[1])
            stats.skipped += 1
            self._forget(state, [entry.rel])
            return
        _, digest, symbols, chunks = result
        previous = state.stored.get(entry.rel)
        if previous is not None and previous[2] == digest:
            state.store.touch(entry.rel, entry.size, entry.mtime_ns)
        else:
            state.store.put(entry.rel, entry.size, entry.mtime_ns, digest, (symbols, chunks))
        state.stored[entry.rel] = (entry.size, entry.mtime_ns, digest)
        stats.parsed += 1
        key = f"{state.key}/{entry.rel}"
        if not self.is_open(key):
            self.index.put(key, state.key, entry.rel, FileData.loads(symbols, chunks), digest)

    def _index_file(self, state: FolderState, entry: FileEntry, stats: ScanStats) -> None:
        key = f"{state.key}/{entry.rel}"
        raw = read_file(entry.path, self.max_bytes)
        if raw is None:
            stats.skipped += 1
            self._forget(state, [entry.rel])
            return
        digest = content_hash(raw)
        previous = state.stored.get(entry.rel)
        try:
            blob = state.store.blob(digest)
            data = FileData.loads(*blob) if blob is not None else None
        except (ValueError, EOFError, TypeError):  # damaged (checksum) or from an older layout
            data = None
        stats.reused += data is not None
        new_blob = None
        if data is None:
            text = decode_source(raw, entry.rel)
            if text is None:
                stats.skipped += 1
                self._forget(state, [entry.rel])
                return
            try:
                data = analyze(entry.language, text, self.options.window_lines)
            except Exception:  # noqa: BLE001 - a grammar or extraction bug must cost one file, not the index
                log.exception("context index: could not extract %s", entry.rel)
                stats.skipped += 1
                return
            new_blob = data.dumps()
            stats.parsed += 1
        if new_blob is None and previous is not None and previous[2] == digest:
            state.store.touch(entry.rel, entry.size, entry.mtime_ns)
        else:
            state.store.put(entry.rel, entry.size, entry.mtime_ns, digest, new_blob)
        state.stored[entry.rel] = (entry.size, entry.mtime_ns, digest)
        record = self.index.files.get(key)
        held = record is not None and record.digest == digest and record.folder == state.key  # this very content
        if not self.is_open(key) and not held:
            self.index.put(key, state.key, entry.rel, data, digest)
