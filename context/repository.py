"""``RepositoryContext``: the repository context engine behind the ``ContextProvider`` interface.

Concurrency: ``document_changed``/``document_closed`` run on the server's event loop and only re-parse
incrementally and schedule work; indexing, re-extraction of edited documents and file-system changes run in
order on one background thread (``Worker``); ``gather`` runs on any thread, reads the in-memory index under its
lock, gives each retrieval source a share of ``gather_timeout_ms`` and never raises.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from pathlib import Path

from .base import ContextRequest, ContextResult, EditorDefinition, Snippet, SymbolDefinition
from .documents import LineCache, OpenDocuments
from .gathering import Gathering, line_start_within, prepare, resolve_import
from .index.indexer import Indexer, ScanStats
from .index.repo_index import RepoIndex, analyze
from .index.scan_progress import Progress
from .index.store import content_hash, default_cache_dir
from .index.worker import Worker
from .privacy import PrivacyPolicy
from .ranking import Candidate, dedup, drop_visible, fuse, opened_call, pack, prompt_order, relevant
from .resolution.receivers import compile_patterns
from .settings import ContextOptions
from .sources.definitions import definition_candidates
from .sources.editor_definitions import EditorDefinitionStore, editor_definition_candidates
from .sources.outline import outline_candidates
from .sources.recent import recent_candidates
from .sources.similar import similar_candidates
from .sources.whole_files import file_candidates
from .syntax.languages import LanguageSpec
from .syntax.shape import Shape
from .uris import uri_to_key

log = logging.getLogger(__name__)

# Share of the gather time each source may use, in the order they run.
_SHARES = (("editor", 0.05), ("definitions", 0.35), ("outline", 0.15), ("similar", 0.35), ("recent", 0.15))
_HEADER_TOKENS = 2  # the file separator and newline around each snippet's path
CALL_LOOKBACK = 2000  # characters of the cursor's line read for the call it is in


class RepositoryContext:
    def __init__(
        self,
        options: ContextOptions | None = None,
        cache_dir: Path | None = None,
        privacy: PrivacyPolicy | None = None,
        on_problem: Callable[[str], None] | None = None,
    ) -> None:
        """``on_problem(message)`` (called from the indexing thread) hears of problems the user should know of:
        a damaged index database that was moved aside and is being rebuilt."""
        self.options = options or ContextOptions()
        self.privacy = privacy or PrivacyPolicy(exclude=self.options.exclude)
        self.index = RepoIndex()
        self.docs = OpenDocuments()
        self.worker = Worker()
        walk_options = self.options.model_copy(update={"exclude": self.privacy.index_excludes})
        self.indexer = Indexer(
            self.index, self.worker, walk_options, cache_dir or default_cache_dir(), self.docs.is_open, on_problem
        )
        self._folders: list[str] = []  # the privacy policy's roots for documents and snippets
        self.line_cache = LineCache(self.options.max_file_kb * 1024)
        self._previous: dict[str, frozenset[tuple[str, int, int]]] = {}
        self._token_cache: dict[str, int] = {}
        self._token_counter: Callable[[str], int] | None = None
        self._lock = threading.Lock()
        self._progress: dict[str, tuple[int, int]] = {}
        self.editor_definition_sets = EditorDefinitionStore()

    # --- lifecycle ------------------------------------------------------------------------------------------------

    def start(
        self, folders: list[Path], progress: Progress | None = None, wait_until_indexed: bool = True
    ) -> list[Future[None]]:
        """Index ``folders`` (warm from the persisted index where files are unchanged). ``progress(done, total)``
        is called from the indexing thread. Blocks until done unless ``wait_until_indexed`` is False; returns the
        scans' futures."""
        futures = [self.add_folder(folder, progress) for folder in folders]
        if wait_until_indexed:
            wait(futures)
        return futures

    def add_folder(self, folder: Path, progress: Progress | None = None) -> Future[None]:
        root = Path(os.path.abspath(folder))
        with self._lock:
            self._folders = [f for f in self._folders if f != root.as_posix()] + [root.as_posix()]

        def report(done: int, total: int) -> None:
            with self._lock:
                self._progress[root.as_posix()] = (done, total)
                done_all = sum(d for d, _ in self._progress.values())
                total_all = sum(t for _, t in self._progress.values())
            if progress is not None:
                progress(done_all, total_all)

        def scan() -> ScanStats:
            stats = self.indexer.scan(root, report)
            self._refresh_open_under(root.as_posix())  # documents opened before their folder was known
            return stats

        return self.worker.submit(scan)

    def remove_folder(self, folder: Path) -> Future[None]:
        root = Path(os.path.abspath(folder))
        with self._lock:
            self._progress.pop(root.as_posix(), None)
            self._folders = [f for f in self._folders if f != root.as_posix()]
        return self.worker.submit(lambda: self.indexer.remove_folder(root))

    def files_changed(self, paths: list[Path]) -> Future[None]:
        """Files created, changed or deleted on disk (didChangeWatchedFiles, didSave)."""
        return self.worker.submit(lambda: self.indexer.files_changed([Path(p) for p in paths]))

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until queued indexing work is done (tests, benchmarks, the CLI)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            done = self.worker.submit(lambda: None)
            try:
                done.result(None if deadline is None else max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return False
            if self.worker.idle():
                return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    def stop(self, save_timeout: float = 30.0) -> None:
        """Stop indexing, save what a warm restart needs (the window-index snapshot), release the databases.
        A second call does nothing."""
        if self.indexer.cancelled:
            return
        self.indexer.cancel()
        try:
            self.worker.submit(self.indexer.save_snapshots).result(save_timeout)
        except Exception:  # noqa: BLE001 - shutting down: the next start rebuilds what is missing
            log.warning("context: could not save the index snapshot", exc_info=True)
        self.worker.stop()
        self.indexer.close()

    def scan_stats(self) -> dict[str, ScanStats]:
        return dict(self.indexer.last_scan)

    def find_definitions(self, name: str) -> list[SymbolDefinition]:
        return [
            SymbolDefinition(str(record.key), definition.start_line, definition.kind, definition.name)
            for record, definition in self.index.definitions_named(name)
        ]

    # --- documents ------------------------------------------------------------------------------------------------

    def document_changed(self, uri: str, text: str, version: int | None, language_id: str | None = None) -> None:
        if not self.privacy.allows(uri, self._folders):
            self.document_closed(uri)  # kept out even while open (and dropped if it just became so)
            return
        try:
            is_new = not self.docs.is_open(uri_to_key(uri))
            doc = self.docs.change(uri, text, version, language_id)
            delay = 0.0 if is_new else self.options.refresh_delay_ms / 1000
            self.worker.submit_later(doc.key, lambda: self._refresh(doc.key), delay)
        except Exception:  # noqa: BLE001 - a document update must never take the server down
            log.exception("context: could not take the change of %s", uri)

    def editor_definitions(self, uri: str, line: int, definitions: list[EditorDefinition]) -> None:
        self.editor_definition_sets.put(uri_to_key(uri), line, definitions)

    def document_closed(self, uri: str) -> None:
        self.editor_definition_sets.drop(uri_to_key(uri))
        doc = self.docs.close(uri)
        if doc is None:
            return
        self.worker.cancel_later(doc.key)
        with self._lock:
            self._previous.pop(doc.key, None)
        if doc.key.startswith("/") and self.index.folder_of(doc.key):
            self.files_changed([Path(doc.key)])  # back to what is on disk
        else:
            self.worker.submit(lambda: self.index.remove(doc.key))

    def _refresh_open_under(self, folder: str) -> None:
        with self.docs.lock:
            keys = [key for key in self.docs.docs if key.startswith(folder.rstrip("/") + "/")]
        for key in keys:
            self._refresh(key)

    def _refresh(self, key: str) -> None:
        """Re-extract an open document's symbols and windows from the editor's text (worker thread)."""
        doc = self.docs.get(key)
        if doc is None or doc.spec is None or doc.parsed is None:
            return
        text, tree = doc.parsed.fresh_tree()
        if tree is None:
            return
        located = self.index.folder_of(key) if key.startswith("/") else None
        folder, rel = located if located else ("", key.rsplit("/", 1)[-1])
        record = self.index.files.get(key)
        if (
            record is not None
            and record.digest  # not an editor version already (typing on: no hash of the text each pause)
            and record.folder == folder
            and record.digest == content_hash(text.encode("utf-8", "surrogatepass"))
        ):
            # opened as it is on disk: the index holds exactly this already, and a put would only clear the
            # lookups kept for the index's generation
            self._ready_for_requests(key, doc.spec, folder, rel)
            return
        data = analyze(doc.spec, text, self.options.window_lines, tree=tree)
        self.index.put(key, folder, rel, data, digest="")
        self._ready_for_requests(key, doc.spec, folder, rel)

    def _ready_for_requests(self, key: str, spec: LanguageSpec, folder: str, rel: str) -> None:
        """What the first request in the document would otherwise compute, done here off the request path: its
        language's declaration patterns, and the files its imports point to (kept until a path changes)."""
        compile_patterns(spec.name)
        record = self.index.files.get(key)
        for imp in record.imports if record is not None else ():
            resolve_import(self.index, imp, spec.import_dialect, key, folder, rel, record)

    def completion_shape(self, uri: str, text: str, offset: int, language_id: str | None = None) -> Shape:
        return self.docs.completion_shape(uri, text, offset, language_id)

    # --- gathering ------------------------------------------------------------------------------------------------

    def gather(self, request: ContextRequest) -> ContextResult:
        started = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            if request.budget_tokens <= 0:
                return ContextResult(timings_ms={"total": 0.0})
            key = uri_to_key(request.uri)
            if not self.privacy.allows(key, self._folders):
                return ContextResult(timings_ms={"total": _ms(started)})
            g = prepare(request, key, self.docs.get(key), self.index)
            timings["prepare"] = _ms(started)
            candidates = self._run_sources(g, timings)
            t = time.perf_counter()
            result = self._pack(g, candidates)
            timings["pack"] = _ms(t)
            timings["total"] = _ms(started)
            result.timings_ms = timings
            return result
        except Exception:  # noqa: BLE001 - context is an optional extra: fall back to none
            log.exception("context: gathering failed for %s", request.uri)
            timings["total"] = _ms(started)
            return ContextResult(timings_ms=timings)

    def _run_sources(self, g: Gathering, timings: dict[str, float]) -> list[Candidate]:
        budget_s = self.options.gather_timeout_ms / 1000
        sources: dict[str, Callable[[], list[Candidate]]] = {
            "editor": lambda: editor_definition_candidates(
                g, self.editor_definition_sets, self.docs, self.line_cache, self._readable
            ),
            "definitions": lambda: definition_candidates(g),
            "outline": lambda: outline_candidates(g),
            "similar": lambda: similar_candidates(g, self.docs, self.line_cache, self.options.window_lines),
            "recent": lambda: recent_candidates(g, self.docs),
        }
        if g.request.budget_tokens >= self.options.long_window_tokens:
            sources["files"] = lambda: file_candidates(g, self.docs, self.line_cache)
        found: list[Candidate] = []
        for name, share in _SHARES + ((("files", 0.5),) if "files" in sources else ()):
            t = time.perf_counter()
            g.deadline = t + budget_s * share
            try:
                found += sources[name]()
            except Exception:  # noqa: BLE001 - one failing source must not cost the others
                log.exception("context: source %s failed", name)
            timings[name] = _ms(t)
        return found

    def _readable(self, key: str) -> bool:
        """A file inside a workspace folder that the privacy policy lets into a prompt (or an open unsaved one)."""
        with self._lock:
            folders = list(self._folders)
        inside = any(key.startswith(folder.rstrip("/") + "/") for folder in folders)
        return (inside or (not key.startswith("/") and self.docs.is_open(key))) and self.privacy.allows(key, folders)

    def _pack(self, g: Gathering, candidates: list[Candidate]) -> ContextResult:
        options = self.options
        weights = {
            "definition": options.definition_weight,
            "editor_definition": options.definition_weight,
            "outline": options.outline_weight,
            "similar": options.similar_weight,
            "recent_edit": options.recent_weight,
            "recent_file": options.recent_weight,
            "file": 1.0,
        }
        ranked = dedup(drop_visible(fuse(candidates, weights), g.key, g.window))
        if g.request.budget_tokens < options.long_window_tokens:  # a long window has room for all that was found
            text, offset = g.request.text, g.request.offset
            ranked = relevant(ranked, opened_call(text[line_start_within(text, offset, CALL_LOOKBACK) : offset]))
        count = self._counter(g.request.count_tokens)
        with self._lock:
            previous = self._previous.get(g.key, frozenset())
        chosen = prompt_order(
            pack(ranked, g.request.budget_tokens, lambda c: count(c.text) + count(c.path) + _HEADER_TOKENS, previous)
        )
        with self._lock:
            self._previous[g.key] = frozenset(c.ident for c, _ in chosen)
        # The last check before anything leaves: a snippet of a file the policy keeps out never does (a file can
        # become ignored, or a folder be added, after it was indexed or opened).
        snippets = [
            Snippet(c.uri, c.path, c.text, c.start_line, c.end_line, c.source, round(c.score, 4), tokens)
            for c, tokens in chosen
            if self.privacy.allows(c.key, self._folders)
        ]
        repo_name = g.folder.rstrip("/").rsplit("/", 1)[-1] if g.folder else ""
        return ContextResult(snippets=snippets, repo_name=repo_name)

    def _counter(self, count_tokens: Callable[[str], int]) -> Callable[[str], int]:
        """``count_tokens`` with a cache: between keystrokes the same snippets are counted again and again."""
        with self._lock:
            if self._token_counter != count_tokens:
                self._token_counter, self._token_cache = count_tokens, {}
            cache = self._token_cache

        def count(text: str) -> int:
            cached = cache.get(text)
            if cached is None:
                cached = cache[text] = int(count_tokens(text))
                if len(cache) > 4096:
                    cache.clear()
            return cached

        return count


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)
