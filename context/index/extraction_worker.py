"""A worker process of ``extraction_pool``: reads job batches from stdin, writes results to stdout, until stdin
closes. ``python -m qwen_lsp.context.index.extraction_worker MAX_BYTES WINDOW_LINES``."""

from __future__ import annotations

import contextlib
import os
import sys

from qwen_lsp.context.index.extraction_pool import extract_job, read_frame, write_frame


def main() -> None:
    max_bytes, window_lines = int(sys.argv[1]), int(sys.argv[2])
    nice = getattr(os, "nice", None)  # not on Windows
    if nice is not None:
        with contextlib.suppress(OSError):
            nice(5)  # the editor and the model come first
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the parent's pipe
    while True:
        try:
            jobs = read_frame(stdin)
        except EOFError:
            return
        write_frame(stdout, [extract_job((job[0], job[1]), max_bytes, window_lines) for job in jobs])


if __name__ == "__main__":
    main()
