"""A keystroke costs in proportion to the edit, not the document. Measured without clocks: the Python steps
(trace events) and the memory allocated while the server's document model applies one keystroke to a file with
one 1 MB line and to a 20 MB file; pygls' model re-splits the whole text and walks the line per character.
End to end, 20 keystrokes in a 1 MB line keep the server's copy exact."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

from lsprotocol import types
from raw_lsp import RawServer, scripted_env

from qwen_lsp.server.text_document import LspWorkspace

STEP_BUDGET = 2_000  # Python line events for one keystroke, whatever the document size


class _TooManySteps(Exception):
    pass


def python_steps(action) -> int:
    """Line events while ``action`` runs; stops it early once over the budget (the old model needs millions)."""
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += 1
        if count > STEP_BUDGET:
            raise _TooManySteps
        return trace

    sys.settrace(trace)
    try:
        action()
    except _TooManySteps:
        pass
    finally:
        sys.settrace(None)
    return count


def allocated_peak(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def open_document(text: str):
    workspace = LspWorkspace(None)
    workspace.put_text_document(
        types.TextDocumentItem(uri="file:///big.py", language_id="python", version=1, text=text)
    )
    return workspace.get_text_document("file:///big.py")


def keystroke(document, line: int, character: int, text: str = "x"):
    position = types.Position(line=line, character=character)
    change = types.TextDocumentContentChangePartial(range=types.Range(start=position, end=position), text=text)
    return lambda: document.apply_change(change)


def test_keystroke_in_one_megabyte_line_is_a_few_steps():
    line = "ä = 'ü😀'; " * 80_000  # ~1 MB, not ASCII: the per-character path is the slow one
    document = open_document(line + "\n")
    column = len(line.encode("utf-16-le")) // 2 - 3
    assert python_steps(keystroke(document, 0, column)) < STEP_BUDGET
    assert python_steps(lambda: document.offset_at_position(types.Position(line=0, character=column))) < STEP_BUDGET


def test_keystroke_in_twenty_megabyte_document_copies_only_its_line():
    document = open_document("value = compute(item, 42)  # a comment\n" * 500_000)  # 20 MB
    assert python_steps(keystroke(document, 250_000, 8)) < STEP_BUDGET
    # the edit allocates about its line (and the list's slot move), not a new 20 MB text
    assert allocated_peak(keystroke(document, 400_000, 8, "y")) < 1_000_000


def test_server_keeps_a_one_megabyte_line_exact_through_keystrokes(tmp_path: Path):
    line = "s = '中文😀' + " * 70_000
    server = RawServer(scripted_env(tmp_path), stderr_path=tmp_path / "stderr.log")
    try:
        server.initialize()
        uri = "file:///work/big/one_line.py"
        server.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": line}}
        )
        expected = line
        for version in range(2, 22):
            at = len(expected) // 2
            character = len(expected[:at].encode("utf-16-le")) // 2
            position = {"line": 0, "character": character}
            server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": position, "end": position}, "text": "k"}],
                },
            )
            expected = expected[:at] + "k" + expected[at:]
        answer = server.call("workspace/executeCommand", {"command": "test.document", "arguments": [{"uri": uri}]})
        assert answer["result"]["text"] == expected and answer["result"]["version"] == 21
    finally:
        server.close()


def test_document_over_the_context_limit_still_completes_with_one_message(tmp_path: Path):
    """Over ``context.max_file_kb`` a document is left out of the context engine (which re-parses per edit),
    said once in the log; completion still works from the text around the cursor."""
    env = scripted_env(tmp_path, default_reply="done()")
    env["QWEN_LSP_CONTEXT__MAX_FILE_KB"] = "1"
    stderr = tmp_path / "stderr.log"
    server = RawServer(env, stderr_path=stderr)
    try:
        server.initialize({"textDocument": {"inlineCompletion": {}}})
        uri = "file:///work/big/large.py"
        text = "value = compute(item)\n" * 200 + "result = "  # 4.4 KB
        server.notify(
            "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}}
        )
        for version in range(2, 6):
            position = {"line": 200, "character": 9}
            server.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": position, "end": position}, "text": ""}],
                },
            )
        answer = server.call(
            "textDocument/inlineCompletion",
            {"textDocument": {"uri": uri}, "position": {"line": 200, "character": 9}, "context": {"triggerKind": 2}},
        )
        assert answer["result"]["items"][0]["insertText"] == "done()"
    finally:
        server.close()
    assert stderr.read_text().count("larger than context.max_file_kb") == 1


def test_no_syntax_check_on_a_huge_line_or_document():
    """tree-sitter takes ~10 s on one 1 MB line of `a + b + ...`: such completions skip the syntax check."""
    from qwen_lsp.server.completion.prefilter import decide
    from qwen_lsp.server.completion.request import CompletionRequest

    def shape(text: str, **limits) -> str:
        request = CompletionRequest(
            uri="file:///m.py", path="m.py", language_id="python", text=text, offset=len(text), version=1
        )
        return decide(request, **limits).reason

    assert shape("x = 'abc' + " * 2_000) == "too large for a syntax check"
    assert shape("x = 1\n" * 100 + "y = ", syntax_check_max_chars=100) == "too large for a syntax check"
    assert shape("x = 1\n" * 100 + "y = ") != "too large for a syntax check"
