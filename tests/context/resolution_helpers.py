"""Helpers for the resolution tests: a small repository per case, the cursor at the end of the open file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from context_repo import request_at_end, write_repo

from qwen_lsp.context.base import Snippet
from qwen_lsp.context.repository import RepositoryContext

CURSOR = "<CURSOR>"


def definitions_at_end(
    engine: RepositoryContext,
    root: Path,
    files: dict[str, str],
    open_rel: str,
    text: str,
    language_id: str,
    budget: int = 2048,
) -> list[Snippet]:
    """Index ``files``, open ``open_rel`` with ``text`` (the cursor at ``CURSOR``, else at the end) and return the
    definition snippets, best first."""
    offset = text.find(CURSOR) if CURSOR in text else len(text)
    text = text.replace(CURSOR, "")
    write_repo(root, {**files, open_rel: text})
    engine.start([root])
    path = root / open_rel
    engine.document_changed(path.as_uri(), text, 1, language_id)
    engine.wait_idle()
    request = replace(request_at_end(path, language_id, budget=budget, text=text, root=root), offset=offset)
    result = engine.gather(request)
    return sorted((s for s in result.snippets if s.source == "definition"), key=lambda s: -s.score)


def first(snippets: list[Snippet]) -> str:
    """``path: first line`` of the best snippet (what the assertion messages show)."""
    return f"{snippets[0].path}: {snippets[0].text.splitlines()[0]}" if snippets else "<none>"
