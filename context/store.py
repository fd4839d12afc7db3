"""The persisted index of one workspace folder: SQLite in the user cache folder.

One database per workspace folder (named after the folder path). ``files`` maps each path to its size, mtime
and content hash; ``blobs`` maps a content hash to what was extracted from that content (definitions, imports,
chunks for the similar-code search), and ``snapshot`` holds the folder's whole window index, so a warm restart
re-reads nothing that did not change and renamed or copied files cost nothing.
A database that is corrupt, from another version or unwritable is replaced by a fresh (or in-memory) one.
Used by one thread at a time (the indexer).
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sqlite3
from pathlib import Path
from typing import Iterable

import platformdirs

from .imports import Import
from .symbols import Definition
from .windows import Chunk

log = logging.getLogger(__name__)

SCHEMA_VERSION = "2"
EXTRACTOR_VERSION = "3"  # bump when queries or extraction change: stored blobs are then re-extracted

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                                  hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (hash TEXT PRIMARY KEY, data BLOB NOT NULL, chunks BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);
"""


class FileData:
    """What the index knows about one file's content. ``chunks`` (for the similar-code search) are stored apart:
    a warm restart usually takes them from the snapshot of the whole window index instead."""

    __slots__ = ("language", "definitions", "imports", "chunks", "line_count")

    def __init__(self, language: str, definitions: list[Definition], imports: list[Import], chunks: list[Chunk] | None,
                 line_count: int) -> None:
        self.language = language
        self.definitions = definitions
        self.imports = imports
        self.chunks = chunks
        self.line_count = line_count

    def dumps(self) -> tuple[bytes, bytes]:
        symbols = marshal.dumps((
            self.language,
            [tuple(d) for d in self.definitions],
            [tuple(i) for i in self.imports],
            self.line_count,
        ))
        return symbols, marshal.dumps(self.chunks or [])

    @classmethod
    def loads(cls, data: bytes, chunks: bytes | None = None) -> "FileData":
        language, definitions, imports, line_count = marshal.loads(data)
        return cls(language, [tuple.__new__(Definition, d) for d in definitions], [tuple.__new__(Import, i) for i in imports],
                   marshal.loads(chunks) if chunks is not None else None, line_count)


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def default_cache_dir() -> Path:
    override = os.environ.get("QWEN_LSP_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir("qwen-lsp"))


def database_path(cache_dir: Path, folder: Path) -> Path:
    digest = hashlib.sha256(str(folder).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in folder.name)[:40] or "root"
    return cache_dir / "index" / f"{safe}-{digest}.sqlite"


class IndexStore:
    def __init__(self, path: Path | None) -> None:
        """``path`` None keeps the index in memory only."""
        self.path = path
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = self._connect(str(self.path))
                if self._compatible(db):
                    return db
                db.close()
                log.info("context index: %s is from another version; rebuilding it", self.path)
                self.path.unlink(missing_ok=True)
                return self._connect(str(self.path), fresh=True)
            except (sqlite3.DatabaseError, OSError) as exc:
                log.warning("context index: cannot use %s (%s); rebuilding it", self.path, exc)
                try:
                    self.path.unlink(missing_ok=True)
                    return self._connect(str(self.path), fresh=True)
                except (sqlite3.DatabaseError, OSError) as exc2:
                    log.warning("context index: keeping the index in memory only (%s)", exc2)
                    self.path = None
        return self._connect(":memory:", fresh=True)

    @staticmethod
    def _connect(target: str, fresh: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL" if target != ":memory:" else "PRAGMA journal_mode=MEMORY")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        if fresh or db.execute("SELECT count(*) FROM meta").fetchone()[0] == 0:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [("schema", SCHEMA_VERSION), ("extractor", EXTRACTOR_VERSION)])
        return db

    @staticmethod
    def _compatible(db: sqlite3.Connection) -> bool:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        return meta.get("schema") == SCHEMA_VERSION and meta.get("extractor") == EXTRACTOR_VERSION

    def files(self) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, hash) of every stored file."""
        return {row[0]: (row[1], row[2], row[3]) for row in self.db.execute("SELECT path, size, mtime_ns, hash FROM files")}

    def load_all(self) -> Iterable[tuple[str, str, bytes]]:
        """(path, hash, symbols blob) of every stored file whose blob is present."""
        return self.db.execute("SELECT f.path, f.hash, b.data FROM files f JOIN blobs b ON b.hash = f.hash")

    def blob(self, digest: str) -> tuple[bytes, bytes] | None:
        """(symbols, chunks) blobs of a content hash."""
        row = self.db.execute("SELECT data, chunks FROM blobs WHERE hash = ?", (digest,)).fetchone()
        return (row[0], row[1]) if row else None

    def chunks(self, digest: str) -> bytes | None:
        row = self.db.execute("SELECT chunks FROM blobs WHERE hash = ?", (digest,)).fetchone()
        return row[0] if row else None

    def snapshot(self) -> bytes | None:
        row = self.db.execute("SELECT data FROM snapshot WHERE id = 1").fetchone()
        return row[0] if row else None

    def save_snapshot(self, data: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?)", (data,))

    def begin(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN")

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def put(self, rel: str, size: int, mtime_ns: int, digest: str, blob: tuple[bytes, bytes] | None) -> None:
        if blob is not None:
            self.db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (digest, *blob))
        self.db.execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)", (rel, size, mtime_ns, digest))

    def touch(self, rel: str, size: int, mtime_ns: int) -> None:
        self.db.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?", (size, mtime_ns, rel))

    def delete(self, rels: Iterable[str]) -> None:
        self.db.executemany("DELETE FROM files WHERE path = ?", ((rel,) for rel in rels))

    def collect_garbage(self) -> None:
        self.db.execute("DELETE FROM blobs WHERE hash NOT IN (SELECT hash FROM files)")

    def close(self) -> None:
        try:
            self.commit()
            self.db.close()
        except sqlite3.Error:
            pass
