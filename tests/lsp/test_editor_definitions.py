"""``qwen/editorDefinitions`` over stdio: definitions the editor's own language server found reach
``qwen.inspectContext`` as the ``editor_definition`` source; locations in secret, ignored or outside files are never
read; malformed notifications are ignored and completions go on."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from test_lsp_context import inspect, write_repo

from lsp_helpers import (
    first_text,
    inline_completion,
    open_document,
    running_server,
    script_env,
    scripted_server_command,
)

# ``handler.dispatch(`` where ``handler`` comes out of a dict filled at run time: only type inference (the editor's
# language server) knows which of the five ``dispatch`` methods it is.
FILES = {
    **{
        f"handlers/h{i}.py": f"class Handler{i}:\n    def dispatch(self, event):\n        return {i}\n"
        for i in range(4)
    },
    "handlers/audit.py": "class AuditHandler:\n    def dispatch(self, event, *, severity: int = 0):\n"
    '        """Write the event to the audit trail."""\n        return severity\n',
    "app.py": "from registry import lookup\n\n\ndef run(event):\n    handler = lookup(event)\n    handler.dispatch(\n",
    "registry.py": "def lookup(event):\n    return HANDLERS[event.kind]\n",
    ".env": "AUDIT_TOKEN=sk-live-0123456789abcdef\n",
    ".gitignore": "private/\n",
    "private/notes.py": "def hidden_helper():\n    return 'private notes'\n",
}
CURSOR = (5, 21)
AUDIT = "def dispatch(self, event, *, severity: int = 0)"


def _location(name: str, uri: str, line: int, character: int = 4) -> dict:
    position = {"line": line, "character": character}
    return {"name": name, "uri": uri, "range": {"start": position, "end": position}}


def _notify(client, uri: str, definitions: list, **extra) -> None:
    params = {"textDocument": {"uri": uri}, "position": {"line": CURSOR[0], "character": CURSOR[1]}}
    params.update({"definitions": definitions, **extra})
    client.protocol.notify("qwen/editorDefinitions", params)


async def _server(tmp_path: Path):
    root = tmp_path / "repo"
    write_repo(root, FILES)
    env = script_env(tmp_path, default_reply="42")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "cache")
    return root, running_server(scripted_server_command(), env, root=root)


async def _inspect_until(client, uri: str, predicate, attempts: int = 150) -> dict:
    result: dict = {}
    for _ in range(attempts):
        result = await inspect(client, uri, *CURSOR)
        if predicate(result):
            return result
        await asyncio.sleep(0.1)
    return result


def _editor_snippets(result: dict) -> list[dict]:
    return [s for s in result.get("snippets", []) if s["source"] == "editor_definition"]


async def test_the_editors_definition_reaches_the_context(tmp_path: Path) -> None:
    root, server = await _server(tmp_path)
    uri = (root / "app.py").as_uri()
    async with server as client:
        await open_document(client, uri, FILES["app.py"])
        # indexed, and our own resolution cannot tell which dispatch it is: the audit one is not in the context
        # (while only some of the five are indexed it may be: wait for the whole index)
        result = await _inspect_until(
            client, uri, lambda r: "def lookup" in r.get("prompt", "") and AUDIT not in r.get("prompt", AUDIT)
        )
        assert "def lookup" in result["prompt"] and AUDIT not in result["prompt"], result["snippets"]
        _notify(client, uri, [_location("dispatch", (root / "handlers/audit.py").as_uri(), 1, 8)], version=1)
        result = await _inspect_until(client, uri, lambda r: AUDIT in r.get("prompt", ""))
        [snippet] = _editor_snippets(result)
        assert snippet["path"] == "handlers/audit.py" and snippet["range"]["start"]["line"] == 1
        # the highest-scored snippet: it is what the cursor calls
        assert snippet["score"] == max(s["score"] for s in result["snippets"]), result["snippets"]
        # a newer set replaces it; closing the document forgets it
        _notify(client, uri, [], version=1)
        result = await _inspect_until(client, uri, lambda r: AUDIT not in r.get("prompt", AUDIT))
        assert AUDIT not in result["prompt"] and not _editor_snippets(result)
        _notify(client, uri, [_location("dispatch", (root / "handlers/audit.py").as_uri(), 1, 8)])
        await _inspect_until(client, uri, lambda r: AUDIT in r.get("prompt", ""))
        client.text_document_did_close(
            types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        await open_document(client, uri, FILES["app.py"], version=2)
        result = await _inspect_until(client, uri, lambda r: "def lookup" in r.get("prompt", ""))
        assert AUDIT not in result["prompt"]


async def test_kept_out_and_outside_locations_are_never_read(tmp_path: Path) -> None:
    root, server = await _server(tmp_path)
    outside = tmp_path / "elsewhere.py"
    outside.write_text("def outside_helper():\n    return 'outside text'\n")
    uri = (root / "app.py").as_uri()
    kept_out = [
        _location("AUDIT_TOKEN", (root / ".env").as_uri(), 0, 0),
        _location("hidden_helper", (root / "private/notes.py").as_uri(), 0),
        _location("outside_helper", outside.as_uri(), 0),
        _location("outside_helper", f"{root.as_uri()}/../elsewhere.py", 0),
        _location("passwd", "file:///etc/passwd", 0),
    ]
    async with server as client:
        await open_document(client, uri, FILES["app.py"])
        await _inspect_until(client, uri, lambda r: "def lookup" in r.get("prompt", ""))
        _notify(client, uri, [*kept_out, _location("dispatch", (root / "handlers/audit.py").as_uri(), 1, 8)])
        result = await _inspect_until(client, uri, lambda r: AUDIT in r.get("prompt", ""))
        assert [s["path"] for s in _editor_snippets(result)] == ["handlers/audit.py"]
        for text in ("sk-live", "private notes", "outside text", "root:"):
            assert text not in result["prompt"]


async def test_bad_notifications_are_ignored_and_completions_go_on(tmp_path: Path) -> None:
    root, server = await _server(tmp_path)
    uri = (root / "app.py").as_uri()
    audit_uri = (root / "handlers/audit.py").as_uri()
    good = _location("dispatch", audit_uri, 1, 8)
    async with server as client:
        await open_document(client, uri, FILES["app.py"])
        await _inspect_until(client, uri, lambda r: "def lookup" in r.get("prompt", ""))
        _notify(client, uri, [good])
        await _inspect_until(client, uri, lambda r: AUDIT in r.get("prompt", ""))
        bad = [
            {"textDocument": {"uri": uri}, "position": {"line": "5", "character": 0}, "definitions": [good]},
            {"textDocument": {"uri": 5}, "position": {"line": 5, "character": 0}, "definitions": [good]},
            {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 0}, "definitions": {"a": 1}},
            {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 0}, "definitions": [{"uri": 3}]},
            {"textDocument": {"uri": uri}, "position": {"line": -1, "character": 0}, "definitions": [good]},
            {"textDocument": {"uri": uri}, "position": {"line": 5, "character": 0}, "definitions": [good] * 2_000},
            {
                "textDocument": {"uri": uri},
                "position": {"line": 5, "character": 0},
                "definitions": [{**good, "name": "x" * 100_000}],
            },
            {"textDocument": {"uri": (root / "not_open.py").as_uri()}, "position": {"line": 0, "character": 0}},
            {"textDocument": {"uri": "http://[bad"}, "position": {"line": 0, "character": 0}, "definitions": []},
            [1, 2, 3],
            "nonsense",
            None,
        ]
        for params in bad:
            client.protocol.notify("qwen/editorDefinitions", params)
        _notify(client, uri, [_location("x", "http://[bad", 0), _location("y", uri, 10_000), good])
        result = await inspect(client, uri, *CURSOR)
        # the bad ones changed nothing: the last good set stands, and completions still answer
        assert [s["path"] for s in _editor_snippets(result)] == ["handlers/audit.py"], result["snippets"]
        assert first_text(await inline_completion(client, uri, *CURSOR)) == "42"
