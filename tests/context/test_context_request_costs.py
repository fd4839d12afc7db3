"""What a request remembers from the previous one to stay cheap must never change its answer."""

from __future__ import annotations

import time
from types import SimpleNamespace

from qwen_lsp.context.privacy import PrivacyPolicy, is_secret
from qwen_lsp.context.resolution.receivers import variable_guesses
from qwen_lsp.context.sources.definitions import _unused_names

IMPORTS = "from .core import Client, helper, Session\n\n"


def _request(key: str, text: str) -> SimpleNamespace:
    return SimpleNamespace(key=key, request=SimpleNamespace(text=text), deadline=time.perf_counter() + 1.0)


def test_an_imported_name_whose_last_use_is_deleted_is_unused_again() -> None:
    used = IMPORTS + "def run():\n    return helper(Client())\n"
    assert _unused_names(_request("/r/a.py", used), ["Client", "helper", "Session"]) == {"Session"}
    # the use of ``helper`` deleted, text shifted by an edit above it: the proof from the last request is void
    edited = "# note\n" + IMPORTS + "def run():\n    return Client()\n"
    assert _unused_names(_request("/r/a.py", edited), ["Client", "helper", "Session"]) == {"helper", "Session"}
    # the proof of ``Client`` still holds after an insertion before it
    moved = IMPORTS + "x = 1\n\ndef run():\n    return Client()\n"
    assert "Client" not in _unused_names(_request("/r/a.py", moved), ["Client"])


def test_type_guesses_are_the_nearest_declarations_first() -> None:
    text = "client = Alpha()\nclient: Beta = make()\nclient_count = Gamma()\nclient = Delta()\nclient = Eps()\n"
    assert [g.path for g in variable_guesses("python", "client", text)] == ["Eps", "Delta", "Beta"]


def test_secret_files_are_found_at_any_depth_as_before() -> None:
    policy = PrivacyPolicy()
    for rel in ("a/.env", "a/b/.ssh/config", "deep/x/id_rsa.pub", "src/app.py", ".aws/", "pkg/secrets.json", "k.pem"):
        assert policy.is_secret(rel) == is_secret(rel), rel
        assert policy.is_secret(rel) == is_secret(rel), rel  # answered from the folders already matched


# --- definitions by name, kept in step with the index ------------------------------------------------------------


def _python(text: str):
    from qwen_lsp.context.index.repo_index import analyze
    from qwen_lsp.context.syntax.languages import language_named

    return analyze(language_named("python"), text)


def _named_afresh(index) -> dict[str, list[tuple[str, int]]]:
    """What ``definitions_named`` answers, computed from the files alone."""
    out: dict[str, list[tuple[str, int]]] = {}
    for name, entries in index.symbols.items():
        out[name] = [(key, index.files[key].definitions[i].start_line) for key, i in entries]
    return out


class _CountingDict(dict):
    gets = 0

    def get(self, *args):  # type: ignore[override]
        _CountingDict.gets += 1
        return super().get(*args)


def test_definitions_by_name_follow_every_put_and_drop_and_are_walked_once() -> None:
    from qwen_lsp.context.index.repo_index import RepoIndex

    index = RepoIndex()
    versions = [
        "class A:\n    def __init__(self):\n        pass\n\ndef run():\n    pass\n",
        "def run():\n    pass\n\nclass B:\n    def __init__(self):\n        pass\n    def run(self):\n        pass\n",
        "x = 1\n",
    ]
    for i, text in enumerate(versions):
        index.put(f"/r/m{i}.py", "/r", f"m{i}.py", _python(text), digest="")
    names = ("__init__", "run", "x", "missing")
    for name in names:
        index.definitions_named(name)  # remembered from here on
    # edits: definitions move, appear and go; a file is removed, another added
    index.put("/r/m0.py", "/r", "m0.py", _python("\n\nclass A:\n    def __init__(self):\n        pass\n"), digest="")
    index.put("/r/m2.py", "/r", "m2.py", _python("def run():\n    pass\nx = 2\n"), digest="")
    index.remove("/r/m1.py")
    index.put("/r/m3.py", "/r", "m3.py", _python("def missing():\n    pass\n"), digest="")
    expected = _named_afresh(index)
    for name in names:
        got = [(r.key, d.start_line) for r, d in index.definitions_named(name)]
        assert got == expected.get(name, []), name
        assert all(index.files[r.key] is r for r, _ in index.definitions_named(name))  # the current records
    index.symbols = _CountingDict(index.symbols)
    _CountingDict.gets = 0
    for name in names:
        index.definitions_named(name)
    assert _CountingDict.gets == 0  # answered without walking the name's entries again


# --- type guesses read only the lines that name the variable -----------------------------------------------------


def test_lines_naming_a_variable_are_those_a_line_by_line_reading_finds() -> None:
    import random

    from qwen_lsp.context.resolution.receivers import _has_word, _lines_naming

    rng = random.Random(3)
    pieces = ["client", "cli", "ent", "client_", "$", "\n", " = ", "x", "é", "\n\n", "(", "_client"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 16)))
        name = rng.choice(["client", "cli", "x", "é"])
        by_line = [line for line in reversed(text.split("\n")) if _has_word(line, name)]
        assert list(_lines_naming(text, name)) == by_line, (text, name)


# --- similar code: the next keystroke's search is the last one's ------------------------------------------------


def test_a_repeated_search_is_answered_again_until_a_file_changes(monkeypatch) -> None:
    from qwen_lsp.context.index.windows import WindowIndex, make_chunks

    def lines(*names: str) -> list[str]:
        return [f"result = {name}(value, other_{name})" for name in names] * 4

    index = WindowIndex()
    index.set_file("/r/a.py", make_chunks(lines("parse", "render", "compute")))
    index.set_file("/r/b.py", make_chunks(lines("parse", "serialize", "fetch")))
    scored: list[set[str]] = []
    search = WindowIndex._search
    monkeypatch.setattr(
        WindowIndex, "_search", lambda self, query, *rest: scored.append(query) or search(self, query, *rest)
    )
    query = {"parse", "other_parse", "render"}
    first = index.search(query, limit=4)
    assert index.search(set(query), limit=4) == first and len(scored) == 1  # the same query: not scored again
    index.set_file("/r/c.py", make_chunks(lines("parse", "render", "other_render")))
    again = index.search(query, limit=4)
    assert len(scored) == 2  # a file changed: scored again
    fresh = WindowIndex()
    for key, names in (("/r/a.py", ("parse", "render", "compute")), ("/r/b.py", ("parse", "serialize", "fetch"))):
        fresh.set_file(key, make_chunks(lines(*names)))
    fresh.set_file("/r/c.py", make_chunks(lines("parse", "render", "other_render")))
    assert again == fresh.search(query, limit=4) != first


def test_the_next_keystroke_reads_only_the_edited_line_for_type_guesses() -> None:
    from qwen_lsp.context.resolution.receivers import _line_guesses

    text = "client = Alpha()\nother = 1\nclient: Beta = make()\nprint(client)\nclient = Delta()\nclient.se"
    first = variable_guesses("python", "client", text)
    misses = _line_guesses.cache_info().misses
    typed = text + "n"  # the next keystroke, on the cursor's line
    assert variable_guesses("python", "client", typed) == first
    assert [g.path for g in first] == ["Delta", "Beta", "make"]
    assert _line_guesses.cache_info().misses - misses == 1  # only the edited line was read again


# --- the lookups kept for the index's generation ------------------------------------------------------------------


def test_a_file_opened_and_closed_as_it_is_on_disk_keeps_the_lookups(repo, tmp_path) -> None:
    from context_repo import request_at_end

    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.context.settings import ContextOptions

    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000, refresh_delay_ms=0), cache_dir=tmp_path / "c")
    try:
        engine.start([repo])
        main = repo / "py/app/main.py"
        text = main.read_text()
        engine.document_changed(main.as_uri(), text, 1, "python")
        engine.wait_idle()
        generation = engine.index.generation
        first = engine.gather(request_at_end(main, "python", root=repo))
        kept = dict(engine.index.lookup_cache)
        assert kept  # what the request looked up is kept for the index's generation
        engine.document_closed(main.as_uri())
        engine.wait_idle()
        engine.document_changed(main.as_uri(), text, 1, "python")
        engine.wait_idle()
        assert engine.index.generation == generation  # nothing was re-extracted: the index holds this text
        again = engine.gather(request_at_end(main, "python", root=repo))
        assert again.snippets == first.snippets
        assert all(engine.index.cached_lookup(key) is value for key, value in kept.items())
        # an edit is re-extracted, and closing the file puts back what is on disk
        edited = "def tax_of(x):\n    return x\n\n\n" + text
        engine.document_changed(main.as_uri(), edited, 2, "python")
        engine.wait_idle()
        assert engine.index.generation > generation
        assert "tax_of" in {d.name for d in engine.index.files[main.as_posix()].definitions}
        engine.document_closed(main.as_uri())
        engine.wait_idle()
        assert "tax_of" not in {d.name for d in engine.index.files[main.as_posix()].definitions}
    finally:
        engine.stop()


def test_what_a_bare_call_means_is_looked_up_again_in_another_class_of_the_file(tmp_path) -> None:
    """In Java a bare ``render()`` is the enclosing class's (inherited) method: the answer for one class of a file
    must not be given in another class of the same file."""
    from dataclasses import replace

    from resolution_helpers import CURSOR, open_at_cursor

    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.context.settings import ContextOptions

    files = {
        f"src/org/x/{base}.java": f"package org.x;\n\npublic class {base} {{\n"
        f'    public String render() {{\n        return "{base}";\n    }}\n}}\n'
        for base in ("PageBase", "ViewBase")
    }
    filler = "".join(f"    int f{i}() {{\n        return {i};\n    }}\n" for i in range(4))  # ``render`` out of sight
    body = "    void show() {\n        render();\n    }\n" + filler
    main = (
        f"package org.x;\n\nclass Page extends PageBase {{\n{body}    void a() {{\n        {CURSOR}\n    }}\n}}\n\n"
        f"class View extends ViewBase {{\n{body}    void b() {{\n        \n    }}\n}}\n"
    )
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "c")
    try:
        request = open_at_cursor(engine, tmp_path / "repo", files, "src/org/x/Pages.java", main, "java")
        in_page = engine.gather(request)
        offset = request.text.rindex("        \n") + 8  # the empty line in ``View.b``
        in_view = engine.gather(replace(request, offset=offset, line=request.text.count("\n", 0, offset)))
    finally:
        engine.stop()

    def bases(result) -> set[str]:
        return {s.path.rsplit("/", 1)[-1] for s in result.snippets if s.source == "definition" and "Base" in s.path}

    assert bases(in_page) == {"PageBase.java"}, bases(in_page)
    assert bases(in_view) == {"ViewBase.java"}, bases(in_view)


def test_a_newly_opened_document_has_its_imports_resolved_and_patterns_compiled_before_the_first_request(
    repo, tmp_path, monkeypatch
) -> None:
    import re

    from context_repo import request_at_end

    from qwen_lsp.context.index.repo_index import RepoIndex
    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.context.resolution import receivers
    from qwen_lsp.context.settings import ContextOptions

    receivers._patterns.cache_clear()
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "c")
    try:
        engine.start([repo])
        main = repo / "py/app/main.py"
        text = main.read_text().replace("total = compute_total(", "cart.items.append(\n    total = compute_total(")
        engine.document_changed(main.as_uri(), text, 1, "python")
        engine.wait_idle()
        resolved, compiled = [], []
        original_resolve, original_compile = RepoIndex.resolve, re.compile
        monkeypatch.setattr(RepoIndex, "resolve", lambda self, *a: resolved.append(a) or original_resolve(self, *a))
        monkeypatch.setattr(re, "compile", lambda *a, **k: compiled.append(a) or original_compile(*a, **k))
        request = request_at_end(main, "python", root=repo, text=text)
        ready = engine.gather(request)
        assert resolved == [] and compiled == []  # both done when the document was opened
        monkeypatch.setattr(re, "compile", original_compile)
        engine.index.resolve_cache.clear()
        receivers._patterns.cache_clear()
        assert engine.gather(request).snippets == ready.snippets  # the same answer as done in the request
        assert resolved  # (which did resolve them)
    finally:
        engine.stop()


# --- a package's outline: re-exports followed once per index generation, and not past the deadline ---------------

_PACKAGE = {
    "shop/__init__.py": "".join(f"from .part{i} import make_{i}, Item{i}\n" for i in range(40)),
    **{
        f"shop/part{i}.py": f"def make_{i}(size: int) -> int:\n    return size\n\n\nclass Item{i}:\n    pass\n"
        for i in range(40)
    },
}


def _outline_at_qualifier(engine, root, monkeypatch, deadline_s: float):
    import time

    from resolution_helpers import open_at_cursor

    from qwen_lsp.context.gathering import prepare
    from qwen_lsp.context.resolution import lookup, outlines
    from qwen_lsp.context.resolution.references import reference_at
    from qwen_lsp.context.resolution.resolver import Resolver
    from qwen_lsp.context.uris import uri_to_key

    request = open_at_cursor(engine, root, _PACKAGE, "app.py", "import shop\n\n\ndef run():\n    shop.", "python")
    key = uri_to_key(request.uri)
    g = prepare(request, key, engine.docs.get(key), engine.index)
    g.deadline = time.perf_counter() + deadline_s
    resolver = Resolver(g)
    (scope,) = resolver.chain(reference_at(request.text).chain)
    calls = []
    original = lookup.NameLookup.defined_in
    monkeypatch.setattr(
        lookup.NameLookup, "defined_in", lambda self, *a, **k: calls.append(a) or original(self, *a, **k)
    )
    found = outlines.module_outline(resolver, scope, "", 1.0)
    monkeypatch.setattr(lookup.NameLookup, "defined_in", original)
    return [c.text for c in found], len(calls)


def test_a_package_outline_follows_its_re_exports_once_per_index_generation(engine, tmp_path, monkeypatch) -> None:
    first, walked = _outline_at_qualifier(engine, tmp_path / "repo", monkeypatch, 5.0)
    again, walked_again = _outline_at_qualifier(engine, tmp_path / "repo", monkeypatch, 5.0)
    assert walked == 80 and walked_again == 0  # each re-exported name followed to its file, then kept
    assert again == first and "make_39" in "\n".join(first)


def test_a_package_outline_past_the_deadline_stops_following_re_exports(engine, tmp_path, monkeypatch) -> None:
    found, walked = _outline_at_qualifier(engine, tmp_path / "repo", monkeypatch, -1.0)
    # the first re-export statement's names (something to show), then no more
    assert walked == 2 and "make_0" in "\n".join(found) and "make_1" not in "\n".join(found)


# --- similar code: only the lines shown are decoded --------------------------------------------------------------


def test_the_lines_between_two_rows_are_those_of_the_whole_decoded_file() -> None:
    import random

    from qwen_lsp.context.index.files import decode_source, decoded_lines
    from qwen_lsp.context.syntax.symbols import split_lines

    rng = random.Random(5)
    pieces = ["a", "é", "\n", "\r\n", "  ", "def f():", "\r", "\t", "€x", "\n\n"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30)))
        data = (b"\xef\xbb\xbf" if rng.random() < 0.2 else b"") + text.encode()
        start = rng.randrange(0, 12)
        end = start + rng.randrange(0, 12)
        assert decoded_lines(data, start, end) == split_lines(decode_source(data, "x"))[start:end], (data, start, end)
    assert decoded_lines(b"x\0y\n", 0, 1) is None  # binary, as decode_source says
    assert decoded_lines(b"x" * 30_000, 0, 1) is None  # minified


def test_similar_windows_of_files_not_open_are_read_without_decoding_the_whole_file(tmp_path, monkeypatch) -> None:
    from context_repo import request_at_end, write_repo

    from qwen_lsp.context import documents
    from qwen_lsp.context.repository import RepositoryContext
    from qwen_lsp.context.settings import ContextOptions

    filler = "".join(f"value_{i} = compute_{i}(item_{i})\n" for i in range(400))
    block = "def serve_invoice(invoice_total, customer_account):\n    ledger_entry = post_ledger(invoice_total)\n"
    files = {name: filler[:8000] + block.replace("serve", name[:4]) + filler[8000:] for name in ("views.py", "more.py")}
    root = write_repo(tmp_path / "repo", files)
    text = "def bill(invoice_total, customer_account):\n    ledger_entry = post_ledger(invoice_total)\n"
    (root / "app.py").write_text(text)
    engine = RepositoryContext(ContextOptions(gather_timeout_ms=1000), cache_dir=tmp_path / "c")
    decoded = []
    original = documents.decode_source
    monkeypatch.setattr(documents, "decode_source", lambda data, label: decoded.append(label) or original(data, label))
    try:
        engine.start([root])
        request = request_at_end(root / "app.py", "python", root=root)
        similar = [s for s in engine.gather(request).snippets if s.source == "similar"]
        assert similar and decoded == []  # windows of views.py and more.py, no whole file decoded for them
        for snippet in similar:
            lines = (root / snippet.path).read_text().split("\n")
            assert snippet.text == "\n".join(lines[snippet.start_line : snippet.end_line])
    finally:
        engine.stop()
