"""Attach the repository context engine to a session when it is available."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from .session import Session

log = logging.getLogger(__name__)


async def attach_repository_context(
    session: Session,
    folders: list[Path],
    wait: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Index ``folders`` with the repository context engine (in the background unless ``wait``)."""
    if not session.settings.context.enabled:
        return
    try:
        from qwen_lsp.context.repository import RepositoryContext
    except ImportError:
        log.info("repository context engine not available; completions use the current file only")
        return
    provider = RepositoryContext()
    session.set_context_provider(provider)
    import asyncio

    task = asyncio.to_thread(provider.start, folders, progress)
    if wait:
        await task
    else:
        asyncio.get_running_loop().create_task(task)
