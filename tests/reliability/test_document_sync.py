"""The server's copy of a document stays equal to the client's through random incremental edits with every
character that ``str.splitlines`` treats as a line break but LSP does not, CRLF and lone CR, emoji (surrogate
pairs in UTF-16) and CJK; positions convert to the same offsets. Checked against a reference model written
independently here: in-process on the document class, and end to end through the real server over stdio."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types

from qwen_lsp.server.text_document import LspWorkspace

# fmt: off
PIECES = ["a", "b", " ", "\t", "x = 1", "\n", "\r", "\r\n", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
          "\u2029", "\x0b", "😀", "𝔘", "中文", "é"]
# fmt: on
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


# --- the reference model: the client's side ------------------------------------------------------------------
def line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]


def utf16_len(text: str) -> int:
    return sum(2 if ord(c) > 0xFFFF else 1 for c in text)


def position_of(text: str, offset: int) -> dict:
    starts = line_starts(text)
    line = max(i for i, start in enumerate(starts) if start <= offset)
    return {"line": line, "character": utf16_len(text[starts[line] : offset])}


def addressable(text: str, offset: int) -> bool:
    """LSP cannot address a point inside a line break ("\\r|\\n")."""
    return not (0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n")


@st.composite
def edit_scripts(draw):
    initial = text = draw(texts)
    edits = []
    for _ in range(draw(st.integers(1, 8))):
        offsets = [o for o in range(len(text) + 1) if addressable(text, o)]
        a, b = sorted(draw(st.sampled_from(offsets)) for _ in range(2))
        new = draw(texts)
        edits.append({"range": {"start": position_of(text, a), "end": position_of(text, b)}, "text": new})
        text = text[:a] + new + text[b:]
    probes = [o for o in range(len(text) + 1) if addressable(text, o)]
    probe = draw(st.sampled_from(probes))
    return initial, edits, text, probe


def _change(edit: dict) -> types.TextDocumentContentChangePartial:
    r = edit["range"]
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(**r["start"]), end=types.Position(**r["end"])), text=edit["text"]
    )


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_document_model_matches_reference(data):
    initial = data.draw(texts)
    workspace = LspWorkspace(None)
    workspace.put_text_document(
        types.TextDocumentItem(uri="file:///t.py", language_id="python", version=1, text=initial)
    )
    document = workspace.get_text_document("file:///t.py")
    text = initial
    for _ in range(data.draw(st.integers(1, 8))):
        offsets = [o for o in range(len(text) + 1) if addressable(text, o)]
        a, b = sorted(data.draw(st.sampled_from(offsets)) for _ in range(2))
        new = data.draw(texts)
        edit = {"range": {"start": position_of(text, a), "end": position_of(text, b)}, "text": new}
        document.apply_change(_change(edit))
        text = text[:a] + new + text[b:]
        assert document.source == text
        assert document.line_count == len(line_starts(text))
    for offset in (o for o in range(len(text) + 1) if addressable(text, o)):
        assert document.offset_at_position(types.Position(**position_of(text, offset))) == offset


# --- end to end: the real server over stdio ---------------------------------------------------------------------
_documents = iter(range(1_000_000))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=edit_scripts(), batch=st.integers(1, 3))
def test_server_copy_matches_client_through_edits(server, script, batch):
    initial, edits, expected, probe = script
    uri = f"file:///work/sync/doc{next(_documents)}.py"
    server.notify(
        "textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": initial}}
    )
    version = 1
    for i in range(0, len(edits), batch):  # several changes per didChange, applied in order
        version += 1
        server.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": edits[i : i + batch]},
        )
    answer = server.call(
        "workspace/executeCommand",
        {"command": "test.document", "arguments": [{"uri": uri, "position": position_of(expected, probe)}]},
    )
    assert "result" in answer, answer
    assert answer["result"]["text"] == expected
    assert answer["result"]["offset"] == probe
    server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    assert server.alive and server.stray is None
