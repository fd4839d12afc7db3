"""Extraction of many files in parallel worker processes, for big scans (a cold index).

Parsing and extracting is CPU work that Python threads cannot share, so a scan with many files to parse runs
``min(cpu_count, 4)`` worker processes (``python -m qwen_lsp.context.index.extraction_worker``, at a lower priority).
Batches of (path, language) jobs go to the least busy worker over stdin; results come back over stdout as
length-prefixed ``marshal`` frames, drained by a thread per worker and handed on in batch order, so the indexer
sees them in job order. Plain subprocesses rather than ``multiprocessing``: nothing of the server's own
``__main__`` is re-imported.
"""

from __future__ import annotations

import marshal
import os
import queue
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import IO, Any

from ..syntax.languages import language_named
from .files import read_bytes, why_unusable

POOL_MIN_FILES = 64  # below this, starting processes costs more than it saves
BATCH = 8
AHEAD = 4  # batches queued per worker

Job = tuple[str, str]  # absolute path, language name
Result = tuple[Any, ...]  # ("ok", digest, symbols, chunks) or ("skip", reason)
_HEADER = struct.Struct("<I")


def extract_job(job: Job, max_bytes: int, window_lines: int) -> Result:
    """Read, hash, parse and extract one file."""
    from .repo_index import analyze
    from .store import content_hash

    path, language = job
    data, reason = read_bytes(path, max_bytes)
    if data is None:
        return ("skip", reason)
    reason = why_unusable(data) or ""
    if reason:
        return ("skip", reason)
    try:
        fd = analyze(language_named(language), data.decode("utf-8-sig"), window_lines)
    except Exception as exc:  # noqa: BLE001 - reported back: one bad file must not end the scan
        return ("skip", f"extraction failed: {exc!r}")
    symbols, chunks = fd.dumps()
    return ("ok", content_hash(data), symbols, chunks)


def write_frame(stream: IO[bytes], value: Any) -> None:
    data = marshal.dumps(value)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("extraction worker ended")
    size = _HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("extraction worker ended")
    return marshal.loads(data)


def process_count() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


class WorkerPool:
    """Worker processes; use as a context manager so they always end."""

    def __init__(self, processes: int, max_bytes: int, window_lines: int) -> None:
        command = [sys.executable, "-m", "qwen_lsp.context.index.extraction_worker", str(max_bytes), str(window_lines)]
        self.workers: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(processes):
                self.workers.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self, kill: bool = False) -> None:
        """End the workers: after their queued batches, or at once (``kill``)."""
        for worker in self.workers:
            try:
                if kill:
                    worker.kill()
                if worker.stdin is not None:
                    worker.stdin.close()
                worker.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                worker.kill()
                worker.wait()
        self.workers = []

    def extract(self, jobs: Iterable[Job]) -> Iterator[Result]:
        """Results in job order. Each batch goes to the least busy worker, and a thread per worker drains its
        output at once: a slow batch (a huge file) holds up neither the other workers nor their pipes."""
        finished: queue.Queue[tuple[int, object]] = queue.Queue()
        readers = [
            threading.Thread(target=_drain, args=(i, w, finished), daemon=True) for i, w in enumerate(self.workers)
        ]
        for reader in readers:
            reader.start()
        outstanding: list[deque[tuple[int, int]]] = [deque() for _ in self.workers]  # (batch number, jobs)
        ready: dict[int, list[Result]] = {}
        batches = _batches(jobs)
        sent = yielded = 0
        window = AHEAD * len(self.workers)  # batches sent but not yet yielded
        while True:
            while sent - yielded < window:
                index = min(range(len(self.workers)), key=lambda i: len(outstanding[i]))
                if len(outstanding[index]) >= AHEAD // 2:
                    break
                batch = next(batches, None)
                if batch is None:
                    break
                stdin = self.workers[index].stdin
                assert stdin is not None
                write_frame(stdin, batch)
                outstanding[index].append((sent, len(batch)))
                sent += 1
            if yielded in ready:
                yield from ready.pop(yielded)
                yielded += 1
                continue
            if yielded == sent:
                return
            index, frame = finished.get()
            if isinstance(frame, BaseException) or not outstanding[index]:
                raise EOFError("extraction worker ended") from (frame if isinstance(frame, BaseException) else None)
            number, count = outstanding[index].popleft()
            if not isinstance(frame, list) or len(frame) != count:
                raise EOFError("extraction worker answered out of step")
            ready[number] = frame


def _batches(jobs: Iterable[Job]) -> Iterator[list[Job]]:
    batch: list[Job] = []
    for job in jobs:
        batch.append(job)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _drain(index: int, worker: subprocess.Popen[bytes], finished: queue.Queue[tuple[int, object]]) -> None:
    """Read a worker's result frames as they come (reader thread); ends with the worker."""
    assert worker.stdout is not None
    while True:
        try:
            frame = read_frame(worker.stdout)
        except (EOFError, OSError, ValueError) as exc:
            finished.put((index, exc))
            return
        finished.put((index, frame))
