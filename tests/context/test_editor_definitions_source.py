"""The ``editor_definition`` source: locations the editor's language server reported become the enclosing
definitions, ranked first; kept-out and outside files are never read; the set follows the document."""

from __future__ import annotations

from pathlib import Path

import pytest

import qwen_lsp.context.documents as documents_module
from qwen_lsp.context.base import ContextRequest, EditorDefinition
from qwen_lsp.context.repository import RepositoryContext

FILES = {
    "handlers/audit.py": "import logging\n\n\nclass AuditHandler:\n    def dispatch(self, event, *, severity: int = 0):\n"
    '        """Write the event to the audit trail."""\n        logging.info(event)\n        return severity\n',
    "notes.cfg": "[audit]\nlevel = high\nkeep = 30\n",
    ".env": "AUDIT_TOKEN=sk-live-0123456789\n",
    ".gitignore": "private/\n",
    "private/helper.py": "def hidden_helper():\n    return 'private notes'\n",
    "app.py": "def run(handler, event):\n" + "    pass\n" * 60 + "    handler.dispatch(\n",
}


def count_tokens(text: str) -> int:
    return max(1, len(text) // 4)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def request(repo: Path, line: int) -> ContextRequest:
    text = FILES["app.py"]
    offset = sum(len(x) + 1 for x in text.split("\n")[:line]) + len(text.split("\n")[line])
    return ContextRequest((repo / "app.py").as_uri(), "app.py", "python", text, offset, line, 21, 1024, count_tokens)


def located(path: Path | str, line: int) -> EditorDefinition:
    uri = path if isinstance(path, str) else path.as_uri()
    return EditorDefinition("dispatch", uri, line, 8)


def editor_snippets(engine: RepositoryContext, repo: Path, line: int = 61) -> list:
    return [s for s in engine.gather(request(repo, line)).snippets if s.source == "editor_definition"]


def test_a_location_becomes_its_enclosing_definition_ranked_first(engine: RepositoryContext, repo: Path) -> None:
    engine.start([repo])
    uri = (repo / "app.py").as_uri()
    engine.document_changed(uri, FILES["app.py"], 1, "python")
    engine.wait_idle(10)
    assert editor_snippets(engine, repo) == []
    engine.editor_definitions(uri, 61, [located(repo / "handlers/audit.py", 4)])
    result = engine.gather(request(repo, 61))
    [snippet] = [s for s in result.snippets if s.source == "editor_definition"]
    assert (snippet.path, snippet.start_line) == ("handlers/audit.py", 4)  # the method, not its class or the file
    assert (
        "def dispatch(self, event, *, severity: int = 0)" in snippet.text and "class AuditHandler" not in snippet.text
    )
    assert snippet.score == max(s.score for s in result.snippets)
    # our own resolution finds it too (the only ``dispatch``): shown once
    assert [s.path for s in result.snippets].count("handlers/audit.py") == 1
    # a file without an indexed definition there: a few lines from the location
    engine.editor_definitions(uri, 61, [located(repo / "notes.cfg", 1)])
    [snippet] = editor_snippets(engine, repo)
    assert snippet.text == "level = high\nkeep = 30\n" and snippet.start_line == 1
    # far from where they were asked for, they are about other code; closing the document forgets them
    assert editor_snippets(engine, repo, line=5) == []
    engine.document_closed(uri)
    engine.document_changed(uri, FILES["app.py"], 2, "python")
    assert editor_snippets(engine, repo) == []


def test_kept_out_and_outside_files_are_never_read(
    engine: RepositoryContext, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("def outside_helper():\n    return 'outside text'\n")
    engine.start([repo])
    uri = (repo / "app.py").as_uri()
    engine.document_changed(uri, FILES["app.py"], 1, "python")
    engine.wait_idle(10)
    read: list[str] = []
    real_read = documents_module.read_file
    monkeypatch.setattr(
        documents_module, "read_file", lambda path, limit: read.append(str(path)) or real_read(path, limit)
    )
    engine.editor_definitions(
        uri,
        61,
        [
            located(repo / "handlers/audit.py", 4),
            located(repo / ".env", 0),
            located(repo / "private/helper.py", 0),
            located(outside, 0),
            located(f"{repo.as_uri()}/../outside.py", 0),
            located("file:///etc/passwd", 0),
        ],
    )
    assert [s.path for s in editor_snippets(engine, repo)] == ["handlers/audit.py"]
    assert not [path for path in read if "audit" not in path], read
