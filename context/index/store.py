"""The persisted index of one workspace folder: SQLite in the user cache folder.

One database per workspace folder (named after the folder path). ``files`` maps each path to its size, mtime
and content hash; ``blobs`` maps a content hash to what was extracted from that content (definitions, imports,
chunks for the similar-code search), and ``snapshot`` holds the folder's whole window index, so a warm restart
re-reads nothing that did not change and renamed or copied files cost nothing.
A database from another version is replaced by a fresh one, an unwritable one by an in-memory one. A damaged one
(``PRAGMA quick_check`` at open, or a read that finds it malformed: ``recover``) is moved aside and rebuilt, and
``on_damage`` says so once. Every stored blob carries a checksum, checked before it is decoded: ``marshal.loads``
on random bytes can take many seconds to fail. Used by one thread at a time (the indexer).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import marshal
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import platformdirs

from ..resolution.imports import Import
from ..syntax.symbols import Definition
from .windows import Chunk

log = logging.getLogger(__name__)

SCHEMA_VERSION = "3"  # 3: checksummed blobs
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

    __slots__ = ("chunks", "definitions", "imports", "language", "line_count")

    def __init__(
        self,
        language: str,
        definitions: list[Definition],
        imports: list[Import],
        chunks: list[Chunk] | None,
        line_count: int,
    ) -> None:
        self.language = language
        self.definitions = definitions
        self.imports = imports
        self.chunks = chunks
        self.line_count = line_count

    def dumps(self) -> tuple[bytes, bytes]:
        symbols = marshal.dumps(
            (self.language, [tuple(d) for d in self.definitions], [tuple(i) for i in self.imports], self.line_count)
        )
        return symbols, marshal.dumps(self.chunks or [])

    @classmethod
    def loads(cls, data: bytes, chunks: bytes | None = None) -> FileData:
        language, definitions, imports, line_count = marshal.loads(data)
        return cls(
            language,
            [tuple.__new__(Definition, d) for d in definitions],
            [tuple.__new__(Import, i) for i in imports],
            marshal.loads(chunks) if chunks is not None else None,
            line_count,
        )


class DamagedBlob(ValueError):
    """A stored blob whose checksum does not match: the file is indexed again."""


_CHECK = 8  # bytes of blake2b in front of every stored blob


def seal(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=_CHECK).digest() + data


def unseal(blob: bytes) -> bytes:
    """The data of a sealed blob; DamagedBlob if its checksum does not match."""
    view = memoryview(blob)
    if len(view) < _CHECK or hashlib.blake2b(view[_CHECK:], digest_size=_CHECK).digest() != view[:_CHECK]:
        raise DamagedBlob("stored index data is damaged")
    return bytes(view[_CHECK:])


# SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged (locked, full or unreadable files are other errors).
_DAMAGE_CODES = (11, 26)


def is_damage(exc: BaseException) -> bool:
    """Whether an sqlite3 error means the database file is damaged."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    return type(exc) is sqlite3.DatabaseError


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
    def __init__(self, path: Path | None, on_damage: Callable[[str], None] | None = None) -> None:
        """``path`` None keeps the index in memory only. ``on_damage(message)`` is told when a damaged database
        was moved aside."""
        self.path = path
        self.on_damage = on_damage
        self.db = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = self._connect(str(self.path))
                damage = db.execute("PRAGMA quick_check(1)").fetchone()[0]
                if damage != "ok":
                    db.close()
                    return self._replace_damaged(damage)
                if self._compatible(db):
                    return db
                db.close()
                log.info("context index: %s is from another version; rebuilding it", self.path)
                self._remove()
                return self._connect(str(self.path), fresh=True)
            except (sqlite3.DatabaseError, OSError) as exc:
                if is_damage(exc):
                    return self._replace_damaged(str(exc))
                log.warning("context index: cannot use %s (%s); rebuilding it", self.path, exc)
                try:
                    self._remove()
                    return self._connect(str(self.path), fresh=True)
                except (sqlite3.DatabaseError, OSError) as exc2:
                    log.warning("context index: keeping the index in memory only (%s)", exc2)
                    self.path = None
        return self._connect(":memory:", fresh=True)

    def recover(self, exc: BaseException) -> None:
        """After a read found the database damaged: move it aside and continue with a fresh one."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self.path is None:
            self.db = self._connect(":memory:", fresh=True)
            return
        try:
            self.db = self._replace_damaged(str(exc))
        except (sqlite3.DatabaseError, OSError) as error:
            log.warning("context index: keeping the index in memory only (%s)", error)
            self.path = None
            self.db = self._connect(":memory:", fresh=True)

    def _replace_damaged(self, damage: str) -> sqlite3.Connection:
        assert self.path is not None
        aside = self.path.with_name(self.path.name + ".damaged")
        os.replace(self.path, aside)
        self._remove(main=False)
        message = f"the context index {self.path} was damaged ({damage}); moved it to {aside.name} and rebuilding it"
        log.warning("context index: %s", message)
        if self.on_damage is not None:
            try:
                self.on_damage(message)
            except Exception:  # noqa: BLE001 - telling the user must not stop the rebuild
                log.exception("context index: damage listener failed")
        return self._connect(str(self.path), fresh=True)

    def _remove(self, main: bool = True) -> None:
        """Delete the database (``main``) and its WAL and shared-memory files."""
        assert self.path is not None
        for suffix in ("", "-wal", "-shm") if main else ("-wal", "-shm"):
            self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)

    @staticmethod
    def _connect(target: str, fresh: bool = False) -> sqlite3.Connection:
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL" if target != ":memory:" else "PRAGMA journal_mode=MEMORY")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        if fresh or db.execute("SELECT count(*) FROM meta").fetchone()[0] == 0:
            db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [("schema", SCHEMA_VERSION), ("extractor", EXTRACTOR_VERSION)],
            )
        return db

    @staticmethod
    def _compatible(db: sqlite3.Connection) -> bool:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        return meta.get("schema") == SCHEMA_VERSION and meta.get("extractor") == EXTRACTOR_VERSION

    def files(self) -> dict[str, tuple[int, int, str]]:
        """path -> (size, mtime_ns, hash) of every stored file."""
        return {
            row[0]: (row[1], row[2], row[3]) for row in self.db.execute("SELECT path, size, mtime_ns, hash FROM files")
        }

    def load_all(self) -> Iterator[tuple[str, str, bytes | None]]:
        """(path, hash, symbols blob) of every stored file whose blob is present; the blob is None if damaged."""
        for path, digest, data in self.db.execute(
            "SELECT f.path, f.hash, b.data FROM files f JOIN blobs b ON b.hash = f.hash"
        ):
            try:
                yield path, digest, unseal(data)
            except DamagedBlob:
                yield path, digest, None

    def blob(self, digest: str) -> tuple[bytes, bytes] | None:
        """(symbols, chunks) blobs of a content hash; DamagedBlob if they are damaged."""
        row = self.db.execute("SELECT data, chunks FROM blobs WHERE hash = ?", (digest,)).fetchone()
        return (unseal(row[0]), unseal(row[1])) if row else None

    def chunks(self, digest: str) -> bytes | None:
        """The chunks blob of a content hash; DamagedBlob if it is damaged."""
        row = self.db.execute("SELECT chunks FROM blobs WHERE hash = ?", (digest,)).fetchone()
        return unseal(row[0]) if row else None

    def snapshot(self) -> bytes | None:
        """The saved window snapshot; DamagedBlob if it is damaged."""
        row = self.db.execute("SELECT data FROM snapshot WHERE id = 1").fetchone()
        return unseal(row[0]) if row else None

    def save_snapshot(self, data: bytes) -> None:
        self.db.execute("INSERT OR REPLACE INTO snapshot VALUES (1, ?)", (seal(data),))

    def begin(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN")

    def commit(self) -> None:
        if self.db.in_transaction:
            self.db.execute("COMMIT")

    def put(self, rel: str, size: int, mtime_ns: int, digest: str, blob: tuple[bytes, bytes] | None) -> None:
        if blob is not None:
            self.db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (digest, seal(blob[0]), seal(blob[1])))
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
