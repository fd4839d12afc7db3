"""The in-memory repository index: files, definitions by name, import resolution by path, similar-code windows.

Everything retrieval needs at request time lives here, so assembling context never touches the disk or the
database. Files are keyed by their absolute path; import resolution uses folder-relative paths, so one folder
can resolve imports into another (a library checked out next to the application). All access goes through
``lock``: the indexer applies one file at a time, requests read under the same lock.
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tree_sitter import Tree

from ..resolution.imports import Import, Target
from ..syntax.languages import LanguageSpec, parser_for
from ..syntax.symbols import Definition, extract_symbols, split_lines
from .store import FileData
from .windows import WindowHit, WindowIndex, make_chunks

_PACKAGE_FILES = frozenset({"__init__", "index", "mod", "package"})  # a file that stands for its folder
_MAX_KEY_DEPTH = 8
MAX_CANDIDATES_PER_IMPORT = 3
HEAD_CHARS = 3  # names are looked up by what is typed once this much of them is


@dataclass(slots=True)
class FileRecord:
    key: str  # absolute path, '/'-separated
    folder: str  # the workspace folder it belongs to (absolute)
    rel: str  # relative to the folder
    language: str
    definitions: list[Definition]
    imports: list[Import]
    line_count: int
    digest: str


def analyze(spec: LanguageSpec, text: str, window_lines: int = 16, tree: Tree | None = None) -> FileData:
    """Extract what the index stores about a file from its text (and tree, when the caller has one)."""
    lines = split_lines(text)
    if tree is None:
        tree = parser_for(spec).parse(text.encode("utf-8", "surrogatepass"))
    symbols = extract_symbols(spec, tree, lines)
    return FileData(spec.name, symbols.definitions, symbols.imports, make_chunks(lines, window_lines), len(lines))


def _path_keys(rel: str) -> tuple[list[str], list[str]]:
    """(suffix keys of the file's path stem, suffix keys of its folder), lower-case, without extension."""
    stem = posixpath.splitext(rel)[0].lower()
    parts = stem.split("/")[-_MAX_KEY_DEPTH:]
    keys = ["/".join(parts[i:]) for i in range(len(parts))]
    if len(parts) > 1 and parts[-1] in _PACKAGE_FILES:
        keys += ["/".join(parts[i:-1]) for i in range(len(parts) - 1)]
    dir_parts = parts[:-1]
    if len(stem.split("/")) == 1:  # a file at the folder's root: its package is the root (a Go module's main one)
        return keys, [""]
    return keys, ["/".join(dir_parts[i:]) for i in range(len(dir_parts))]


def _add(table: dict[str, list[str]], key: str, value: str) -> None:
    bucket = table.get(key)
    if bucket is None:
        table[key] = [value]
    elif value not in bucket:
        bucket.append(value)


def _discard(table: dict[str, list[str]], key: str, value: str) -> None:
    bucket = table.get(key)
    if bucket is not None and value in bucket:
        bucket.remove(value)
        if not bucket:
            del table[key]


def _is_exactly(rel: str, key: str) -> bool:
    stem = posixpath.splitext(rel)[0].lower()
    if stem == key:
        return True
    parent, _, last = stem.rpartition("/")
    return parent == key and last in _PACKAGE_FILES


def _shared_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        count += 1
    return count


class RepoIndex:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.files: dict[str, FileRecord] = {}
        self.symbols: dict[str, list[tuple[str, int]]] = {}  # name -> (file key, index into its definitions)
        self.heads: dict[str, set[str]] = {}  # first HEAD_CHARS characters -> the names in ``symbols`` so starting
        self.stems: dict[str, list[str]] = {}  # path-stem suffix -> file keys
        self.dirs: dict[str, list[str]] = {}  # folder suffix -> file keys
        self.window_indexes: dict[str, WindowIndex] = {}  # per workspace folder ("" for files outside folders)
        self.roots: set[str] = set()  # the workspace folders, absolute, '/'-separated
        self.paths_generation = 0  # changes when a file appears or disappears: import resolution may change
        self.resolve_cache: dict[tuple[Any, ...], tuple[int, list[str]]] = {}
        self.generation = 0  # changes with any file's content: answers derived from definitions may change
        self.lookup_cache: dict[tuple[Any, ...], object] = {}  # such answers, valid for ``lookup_generation``
        self.lookup_generation = 0
        # name -> definitions_named(name), kept in step with ``symbols`` by ``put`` and ``_drop``: a common name has
        # thousands of entries, asked for request after request, and an edit must not make it start over
        self._named: dict[str, list[tuple[FileRecord, Definition]]] = {}

    def put(self, key: str, folder: str, rel: str, data: FileData, digest: str) -> None:
        """Add or replace a file. ``data.chunks`` None keeps the file's chunks already in the window index
        (loaded from a snapshot)."""
        with self.lock:
            self.generation += 1
            if self._drop(key, keep_chunks=data.chunks is None) is None:
                self.paths_generation += 1
            record = FileRecord(
                key, folder, rel, data.language, data.definitions, data.imports, data.line_count, digest
            )
            self.files[key] = record
            for i, definition in enumerate(data.definitions):
                named = self._named.get(definition.name)
                if named is not None:
                    named.append((record, definition))
                bucket = self.symbols.get(definition.name)
                if bucket is None:
                    self.symbols[definition.name] = [(key, i)]
                    self.heads.setdefault(definition.name[:HEAD_CHARS], set()).add(definition.name)
                else:
                    bucket.append((key, i))
            stem_keys, dir_keys = _path_keys(rel)
            for stem in stem_keys:
                _add(self.stems, stem, key)
            for directory in dir_keys:
                _add(self.dirs, directory, key)
            if data.chunks is not None:
                self.windows_of(folder).set_file(key, data.chunks)

    def remove(self, key: str) -> None:
        with self.lock:
            self.generation += 1
            if self._drop(key) is not None:
                self.paths_generation += 1

    def add_folder(self, folder: str) -> None:
        with self.lock:
            self.roots.add(folder)

    def remove_folder(self, folder: str) -> None:
        with self.lock:
            self.roots.discard(folder)
            for key in [k for k, record in self.files.items() if record.folder == folder]:
                self._drop(key)
            self.window_indexes.pop(folder, None)
            self.paths_generation += 1
            self.generation += 1

    def _drop(self, key: str, keep_chunks: bool = False) -> FileRecord | None:
        record = self.files.pop(key, None)
        if record is None:
            return None
        for name in {definition.name for definition in record.definitions}:
            named = self._named.get(name)
            if named is not None:
                named[:] = [entry for entry in named if entry[0].key != key]
        for definition in record.definitions:
            bucket = self.symbols.get(definition.name)
            if bucket is not None:
                bucket[:] = [entry for entry in bucket if entry[0] != key]
                if not bucket:
                    del self.symbols[definition.name]
                    self.heads.get(definition.name[:HEAD_CHARS], set()).discard(definition.name)
        stem_keys, dir_keys = _path_keys(record.rel)
        for stem in stem_keys:
            _discard(self.stems, stem, key)
        for directory in dir_keys:
            _discard(self.dirs, directory, key)
        if not keep_chunks and record.folder in self.window_indexes:
            self.window_indexes[record.folder].remove_file(key)
        return record

    def cached_lookup(self, key: tuple[Any, ...]) -> object | None:
        """An answer derived from the definitions (``store_lookup``), if nothing changed since it was stored."""
        if self.lookup_generation != self.generation:
            self.lookup_cache, self.lookup_generation = {}, self.generation
        return self.lookup_cache.get(key)

    def store_lookup(self, key: tuple[Any, ...], value: object) -> None:
        if len(self.lookup_cache) > 50_000:
            self.lookup_cache.clear()
        self.lookup_cache[key] = value

    def windows_of(self, folder: str) -> WindowIndex:
        with self.lock:
            index = self.window_indexes.get(folder)
            if index is None:
                index = self.window_indexes[folder] = WindowIndex()
            return index

    def install_windows(self, folder: str, index: WindowIndex) -> None:
        """Use a window index loaded from a snapshot for ``folder``."""
        with self.lock:
            self.window_indexes[folder] = index

    def search_windows(self, query: set[str], limit: int, deadline: float | None = None) -> list[WindowHit]:
        with self.lock:
            hits: list[WindowHit] = []
            for index in self.window_indexes.values():
                hits += index.search(query, limit=limit, deadline=deadline)
        return sorted(hits, key=lambda h: -h.rank)[:limit] if len(self.window_indexes) > 1 else hits

    def usage(self, names: Iterable[str]) -> dict[str, int]:
        """How many chunks of the workspace mention each name: how much the repository uses it."""
        with self.lock:
            indexes = list(self.window_indexes.values())
            return {name: sum(index.df(name) for index in indexes) for name in names}

    def window_count(self) -> int:
        with self.lock:
            return sum(len(index) for index in self.window_indexes.values())

    def definitions_named(self, name: str) -> list[tuple[FileRecord, Definition]]:
        with self.lock:
            out = self._named.get(name)
            if out is None:
                out = []
                for key, i in self.symbols.get(name, ()):
                    record = self.files.get(key)
                    if record is not None and i < len(record.definitions):
                        out.append((record, record.definitions[i]))
                if len(self._named) > 50_000:
                    self._named.clear()
                self._named[name] = out
            return list(out)  # the caller's to keep or change

    def names_starting(self, prefix: str) -> list[str]:
        """Defined names that start with ``prefix`` (at least HEAD_CHARS characters), as a user typing it may mean."""
        if len(prefix) < HEAD_CHARS:
            return []
        with self.lock:
            return [name for name in self.heads.get(prefix[:HEAD_CHARS], ()) if name.startswith(prefix)]

    def resolve(self, target: Target, current: FileRecord | None, folder: str, rel: str) -> list[str]:
        """File keys an import target refers to, closest to the importing file first."""
        table = self.dirs if target.directory else self.stems
        with self.lock:
            if target.exact and target.directory:  # a package by its place (a manifest's): all its files
                key = "" if target.key == "." else target.key
                return [
                    k
                    for k in table.get("/".join(key.split("/")[-_MAX_KEY_DEPTH:]), ())
                    if self.files[k].folder == folder and posixpath.dirname(self.files[k].rel).lower() == key
                ]
            if target.exact:
                return [
                    k
                    for k in table.get(target.key, ())
                    if self.files[k].folder == folder and _is_exactly(self.files[k].rel, target.key)
                ][:MAX_CANDIDATES_PER_IMPORT]
            parts = target.key.split("/")[-_MAX_KEY_DEPTH:]
            for i in range(len(parts)):
                found = table.get("/".join(parts[i:]))
                if found:
                    found = [k for k in found if k != (current.key if current else None)]
                    if not found:
                        continue
                    found = sorted(found, key=lambda k: -_shared_prefix(self.files[k].rel, rel))
                    return found[:MAX_CANDIDATES_PER_IMPORT]
            return []

    def folder_of(self, path: Path | str) -> tuple[str, str] | None:
        """(folder, relative path) for an absolute path inside a workspace folder; the innermost folder wins."""
        text = path.as_posix() if isinstance(path, Path) else path
        with self.lock:
            best = max((root for root in self.roots if text.startswith(root.rstrip("/") + "/")), key=len, default=None)
        return (best, text[len(best.rstrip("/")) + 1 :]) if best else None
