"""A cursor in one huge line of minified code: the context reads a bounded neighbourhood of the cursor, not the
line (reading it per name around the cursor took minutes for a 2 MB bundle). Measured without clocks: the Python
steps of one context request, as tests/reliability/test_large_documents.py does for keystrokes."""

from __future__ import annotations

import sys
from pathlib import Path

from qwen_lsp.context.base import ContextRequest
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.settings import ContextOptions

STEP_BUDGET = 300_000  # Python line events for one request in a 1 MB line (the neighbourhood is ~5 KB)


def python_steps(action) -> int:
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += 1
        return trace

    sys.settrace(trace)
    try:
        action()
    finally:
        sys.settrace(None)
    return count


def test_context_in_a_megabyte_of_minified_code_reads_around_the_cursor(tmp_path: Path) -> None:
    root = tmp_path / "web"
    root.mkdir()
    (root / "parse.js").write_text("export function parseThing(a) {\n  return a\n}\n")
    text = "var x=" + ";".join(f"v{i}=parseThing(w{i})" for i in range(50_000)) + ";parseTh"  # ~1 MB, one line
    (root / "bundle.min.js").write_text(text)
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "cache")
    engine.start([root])
    try:
        uri = (root / "bundle.min.js").as_uri()
        engine.document_changed(uri, text, 1, "javascript")
        engine.wait_idle()
        request = ContextRequest(
            uri, "bundle.min.js", "javascript", text, len(text), 0, len(text), 1024, lambda s: len(s) // 4 + 1,
            len(text) - 3000, len(text),
        )  # fmt: skip
        engine.gather(request)  # warm: the parse of the document is not what is measured
        result = None

        def gather() -> None:
            nonlocal result
            result = engine.gather(request)

        assert python_steps(gather) < STEP_BUDGET  # ~37,000 now; 9.2 million (2.5 min) when the line was read
        assert result is not None and any("parseThing" in s.text for s in result.snippets)
    finally:
        engine.stop()
