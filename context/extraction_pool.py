"""Extraction of many files in parallel worker processes, for big scans (a cold index).

Parsing and extracting is CPU work that Python threads cannot share, so a scan with many files to parse runs
``min(cpu_count, 4)`` worker processes (``python -m qwen_lsp.context.extraction_worker``, at a lower priority).
Batches of (path, language) jobs go round-robin to the workers over stdin; results come back over stdout as
length-prefixed ``marshal`` frames and are read in batch order, so the indexer sees them in job order. Plain
subprocesses rather than ``multiprocessing``: nothing of the server's own ``__main__`` is re-imported.
"""

from __future__ import annotations

import marshal
import os
import struct
import subprocess
import sys
from collections import deque
from typing import IO, Iterable, Iterator

from .files import read_bytes, why_unusable
from .languages import language_named

POOL_MIN_FILES = 64  # below this, starting processes costs more than it saves
BATCH = 8
AHEAD = 4  # batches queued per worker

Job = tuple[str, str]  # absolute path, language name
Result = tuple  # ("ok", digest, symbols, chunks) or ("skip", reason)
_HEADER = struct.Struct("<I")


def extract_job(job: Job, max_bytes: int, window_lines: int) -> Result:
    """Read, hash, parse and extract one file."""
    from .index import analyze
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


def write_frame(stream: IO[bytes], value: object) -> None:
    data = marshal.dumps(value)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> object:
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
        command = [sys.executable, "-m", "qwen_lsp.context.extraction_worker", str(max_bytes), str(window_lines)]
        self.workers: list[subprocess.Popen] = []
        try:
            for _ in range(processes):
                self.workers.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for worker in self.workers:
            try:
                if worker.stdin is not None:
                    worker.stdin.close()
                worker.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                worker.kill()
                worker.wait()
        self.workers = []

    def extract(self, jobs: Iterable[Job]) -> Iterator[Result]:
        """Results in job order."""
        queued: deque[tuple[int, int]] = deque()  # (worker, jobs in the batch), in submission order
        batch: list[Job] = []
        turn = 0

        def send(items: list[Job]) -> None:
            nonlocal turn
            worker = self.workers[turn % len(self.workers)]
            assert worker.stdin is not None
            write_frame(worker.stdin, items)
            queued.append((turn % len(self.workers), len(items)))
            turn += 1

        def receive() -> list[Result]:
            index, count = queued.popleft()
            stdout = self.workers[index].stdout
            assert stdout is not None
            results = read_frame(stdout)
            if not isinstance(results, list) or len(results) != count:
                raise EOFError("extraction worker answered out of step")
            return results

        for job in jobs:
            batch.append(job)
            if len(batch) == BATCH:
                send(batch)
                batch = []
                if len(queued) >= AHEAD * len(self.workers):
                    yield from receive()
        if batch:
            send(batch)
        while queued:
            yield from receive()
