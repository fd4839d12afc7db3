"""Helpers for the resolution tests: a small repository per case, the cursor at the end of the open file."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from context_repo import request_at_end, write_repo

from qwen_lsp.context.base import ContextRequest, Snippet
from qwen_lsp.context.gathering import prepare
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.resolution.references import reference_at
from qwen_lsp.context.resolution.resolver import Resolver
from qwen_lsp.context.uris import uri_to_key

CURSOR = "<CURSOR>"


def open_at_cursor(
    engine: RepositoryContext,
    root: Path,
    files: dict[str, str],
    open_rel: str,
    text: str,
    language_id: str,
    budget: int = 2048,
) -> ContextRequest:
    """Index ``files``, open ``open_rel`` with ``text`` (the cursor at ``CURSOR``, else at the end): the request."""
    offset = text.find(CURSOR) if CURSOR in text else len(text)
    text = text.replace(CURSOR, "")
    write_repo(root, {**files, open_rel: text})
    engine.start([root])
    path = root / open_rel
    engine.document_changed(path.as_uri(), text, 1, language_id)
    engine.wait_idle()
    return replace(request_at_end(path, language_id, budget=budget, text=text, root=root), offset=offset)


def definitions_at_end(
    engine: RepositoryContext,
    root: Path,
    files: dict[str, str],
    open_rel: str,
    text: str,
    language_id: str,
    budget: int = 2048,
) -> list[Snippet]:
    """The definition snippets at the cursor (``open_at_cursor``), best first."""
    result = engine.gather(open_at_cursor(engine, root, files, open_rel, text, language_id, budget))
    return sorted((s for s in result.snippets if s.source == "definition"), key=lambda s: -s.score)


def first(snippets: list[Snippet]) -> str:
    """``path: first line`` of the best snippet (what the assertion messages show)."""
    return f"{snippets[0].path}: {snippets[0].text.splitlines()[0]}" if snippets else "<none>"


def types_at_cursor(
    engine: RepositoryContext, root: Path, files: dict[str, str], open_rel: str, text: str, language_id: str
) -> list[str]:
    """The names of the types the qualifier before the cursor resolves to (``open_at_cursor``)."""
    request = open_at_cursor(engine, root, files, open_rel, text, language_id)
    key = uri_to_key(request.uri)
    g = prepare(request, key, engine.docs.get(key), engine.index)
    g.deadline = time.perf_counter() + 5.0
    ref = reference_at(request.text[max(0, request.offset - 800) : request.offset])
    return [s.definition.name for s in Resolver(g).chain(ref.chain) if s.definition] if ref else []
