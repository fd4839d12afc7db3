"""The value a macro call gives (``command!()``), for a macro defined in the repository: the type its body
constructs first (``$crate::Command::new(...)``), as an IDE expanding the macro would find in most builders."""

from __future__ import annotations

import re
from pathlib import Path

from ..gathering import Gathering
from ..index.repo_index import FileRecord
from ..syntax.symbols import Definition

MAX_BODY_LINES = 80  # the constructor is near the top of a macro's first arm
_CONSTRUCTED = re.compile(
    r"(?<![\w:])((?:\$crate::|crate::|self::|super::)?(?:[a-z_]\w*::)*[A-Z]\w*)\s*(?:::\s*<[^>]*>)?::\s*"
    r"(?:new|default|builder|from\w*|with\w*|create\w*)\s*\("
)
_STRUCT_LITERAL = re.compile(r"(?<![\w:])((?:\$crate::|crate::)?(?:[a-z_]\w*::)*[A-Z]\w*)\s*\{\s*\w+\s*:")


def macro_result_type(g: Gathering, record: FileRecord, macro: Definition) -> str:
    """The path of the type the macro's body constructs first, dotted (``crate.Command``), or "" (kept for the
    index's generation)."""
    memo_key = ("macro_result", record.key, macro.start_line)
    cached = g.index.cached_lookup(memo_key)
    if cached is None:
        cached = _constructed(_body(record, macro))
        g.index.store_lookup(memo_key, cached)
    return cached  # type: ignore[return-value]


def _body(record: FileRecord, macro: Definition) -> str:
    try:
        lines = Path(record.key).read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return macro.summary
    return "\n".join(lines[macro.start_line : min(macro.end_line, macro.start_line + MAX_BODY_LINES)])


def _constructed(body: str) -> str:
    found = [m for m in (_CONSTRUCTED.search(body), _STRUCT_LITERAL.search(body)) if m]
    if not found:
        return ""
    path = min(found, key=lambda m: m.start()).group(1)
    return path.replace("$crate::", "crate::").replace("::", ".")
