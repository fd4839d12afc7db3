"""Stand-ins for local services a sandboxed command must not reach: a TCP server on 127.0.0.1 and a Unix socket
(like docker's or a database's in /run). Used by the containment tests and bench/bench_containment.py."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def socket_place(fallback_folder: Path, name: str) -> Path:
    """/run when writable (sockets of system services live there), else ``fallback_folder``."""
    run = Path("/run")
    return run / f"{name}-{os.getpid()}.sock" if os.access(run, os.W_OK) else fallback_folder / "service.sock"


async def listener(unix_path: Path) -> tuple[asyncio.Server, asyncio.Server, list[bytes]]:
    """The TCP and the Unix socket server, and what any connection to them sent."""
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(1000))
        writer.close()

    tcp = await asyncio.start_server(handle, "127.0.0.1", 0)
    return tcp, await asyncio.start_unix_server(handle, str(unix_path)), received
