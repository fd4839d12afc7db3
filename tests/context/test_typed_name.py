"""A name half typed at the cursor (``luaH_get``, ``parse_``): the definitions it can become are in the context,
ranked by what the file says (imported, used, defined in an included file, in its folder), in each language."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolution_helpers import CURSOR, definitions_at_end, first

from qwen_lsp.context.index.repo_index import RepoIndex
from qwen_lsp.context.index.store import FileData
from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.syntax.symbols import Definition

NOISE = "\n".join(f"def other_{i}(x):\n    return x\n" for i in range(6))

CASES = {
    "python": (
        {
            "pkg/__init__.py": "",
            "pkg/settings.py": "def parse_settings(path: str, strict: bool = False) -> dict:\n    return {}\n",
            "pkg/other.py": "def parse_other(text):\n    return text\n" + NOISE,
        },
        "pkg/app.py",
        "from pkg.settings import parse_settings\n\n\ndef main(path):\n    config = parse_se",
        "python",
        "def parse_settings(",
    ),
    "typescript": (
        {
            "src/clients.ts": "export function createClient(url: string, retries: number): Client {\n"
            "  return new Client(url)\n}\nexport class Client {\n  constructor(readonly url: string) {}\n}\n"
        },
        "src/app.ts",
        "import { createClient } from './clients'\n\nexport function start(url: string) {\n  const c = createCl",
        "typescript",
        "export function createClient(",
    ),
    "go": (
        {
            "go.mod": "module example.com/app\n",
            "server/routes.go": "package server\n\nfunc RegisterRoutes(mux *Mux, prefix string) error {\n"
            "\treturn nil\n}\n",
            "server/mux.go": "package server\n\ntype Mux struct{}\n",
        },
        "server/main.go",
        "package server\n\nfunc Start() error {\n\tmux := &Mux{}\n\treturn RegisterRo",
        "go",
        "func RegisterRoutes(",
    ),
    "c": (
        {
            "ltable.h": "#ifndef ltable_h\n#define ltable_h\nconst TValue *luaH_getint (Table *t, long key);\n#endif\n",
            "ltable.c": '#include "ltable.h"\n\nconst TValue *luaH_getint (Table *t, long key) {\n  return NULL;\n}\n',
        },
        "lapi.c",
        '#include "ltable.h"\n\nint lua_rawgeti (lua_State *L, int idx, long n) {\n  return finish(L, luaH_get',
        "c",
        "luaH_getint",
    ),
}


@pytest.mark.parametrize("language", CASES)
def test_the_name_being_typed_brings_what_it_can_become(
    engine: RepositoryContext, tmp_path: Path, language: str
) -> None:
    files, open_rel, text, language_id, expected = CASES[language]
    snippets = definitions_at_end(engine, tmp_path / "repo", files, open_rel, text, language_id)
    assert any(expected in s.text and s.score >= 0.9 for s in snippets), first(snippets)


def test_a_name_from_an_included_file_ranks_above_ones_defined_elsewhere(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    files = {
        "loader.h": "int load_config (const char *path);\n",
        "loader.c": '#include "loader.h"\n\nint load_config (const char *path) {\n  return 0;\n}\n',
        "far/away.c": "int load_cache (int key) {\n  return key;\n}\n",
        "far/more.c": "int load_cart (int user) {\n  return user;\n}\n",
        "far/most.c": "int load_carts (int user) {\n  return user;\n}\n",
    }
    text = '#include "loader.h"\n\nint run (const char *path) {\n  return load_c'
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "main.c", text, "c")
    assert snippets and "load_config" in snippets[0].text, first(snippets)


@pytest.mark.parametrize(
    "text",
    [
        "def parse_",  # a new name being declared
        "x = config.parse_",  # a member: the qualifier's outline's job
        "# parse_",  # prose
        "    * parse_",  # a doc comment's line
        "pa",  # too short to say anything
    ],
)
def test_no_guess_where_the_name_is_not_a_reference(engine: RepositoryContext, tmp_path: Path, text: str) -> None:
    files = {"pkg/__init__.py": "", "pkg/settings.py": "def parse_settings(path):\n    return {}\n"}
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "pkg/app.py", text, "python")
    assert not any("parse_settings" in s.text and s.score >= 0.9 for s in snippets), first(snippets)


@pytest.mark.parametrize(
    ("text", "language_id", "rel"),
    [
        ('#include "settings.h"\n\nint run (int *p) {\n  *p = parse_se', "c", "main.c"),  # a dereference
        ("def main(parts):\n    *rest, last = parse_se", "python", "pkg/app.py"),  # starred assignment
    ],
)
def test_a_line_starting_with_a_star_is_code_not_a_comment(
    engine: RepositoryContext, tmp_path: Path, text: str, language_id: str, rel: str
) -> None:
    files = {"pkg/__init__.py": "", "pkg/settings.py": "def parse_settings(path):\n    pass\n"}
    if language_id == "c":
        files = {
            "settings.h": "int parse_settings (const char *path);\n",
            "settings.c": '#include "settings.h"\n\nint parse_settings (const char *path) {\n  return 0;\n}\n',
        }
    snippets = definitions_at_end(engine, tmp_path / "repo", files, rel, text, language_id)
    assert any("parse_settings" in s.text and s.score >= 0.9 for s in snippets), first(snippets)


def test_the_prefix_table_follows_files_coming_and_going() -> None:
    index = RepoIndex()

    def data(*names: str) -> FileData:
        defs = [Definition(n, "function", i, i + 1, i + 1, "", f"def {n}(): ...") for i, n in enumerate(names)]
        return FileData("python", defs, [], [], len(names))

    index.put("/r/a.py", "/r", "a.py", data("parse_args", "parse_file"), "1")
    index.put("/r/b.py", "/r", "b.py", data("parse_args"), "2")
    assert sorted(index.names_starting("parse_")) == ["parse_args", "parse_file"]
    index.put("/r/a.py", "/r", "a.py", data("print_all"), "3")
    assert index.names_starting("parse_") == ["parse_args"]
    index.remove("/r/b.py")
    assert index.names_starting("parse_") == [] and index.names_starting("pri") == ["print_all"]
    assert index.names_starting("pa") == []  # under HEAD_CHARS: not looked up


def test_a_member_typed_so_far_keeps_the_outline_when_it_is_also_a_whole_name(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    """``observable.set`` while typing ``setNewValue_``: ``set`` is a member too, but until it is called the longer
    names it starts stay in view."""
    files = {
        "src/value.ts": "export class ObservableValue<T> {\n  set(v: T): void {\n    this.value = v\n  }\n"
        + "".join(f"  other{i}(v: T): T {{\n    const w = v\n    return w\n  }}\n" for i in range(12))
        + "  setNewValue_(v: T): void {\n    return\n  }\n}\n"
    }
    text = (
        "import { ObservableValue } from './value'\n\nexport function update(observable: ObservableValue<number>) {\n"
        "  observable.set"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/app.ts", text, "typescript")
    assert any("setNewValue_" in s.text and s.score >= 0.9 for s in snippets), [
        (s.text[:40], s.score) for s in snippets
    ]


def test_java_a_name_typed_in_a_class_may_be_an_inherited_member(engine: RepositoryContext, tmp_path: Path) -> None:
    """Inside a subclass, ``_rep`` may be ``this._reportError`` of a base two levels up; private members of the
    bases are not inherited."""
    base_members = "".join(f"    protected void helper{i}() {{\n        int x = {i};\n    }}\n" for i in range(30))
    files = {
        "src/main/java/org/p/ParserMinimalBase.java": "package org.p;\n\npublic abstract class ParserMinimalBase {\n"
        + base_members
        + "    protected void _reportError(String msg) {\n        throw new RuntimeException(msg);\n    }\n"
        "    private void _reportSecret(String msg) {\n    }\n}\n",
        "src/main/java/org/p/ParserBase.java": "package org.p;\n\npublic abstract class ParserBase extends "
        "ParserMinimalBase {\n    protected int _inputPtr;\n}\n",
    }
    text = (
        "package org.p;\n\npublic class JsonParser extends ParserBase {\n    public void next(int ch) {\n"
        "        if (ch < 0) {\n            _rep" + CURSOR + "\n        }\n    }\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/main/java/org/p/JsonParser.java", text, "java")
    assert snippets and "_reportError" in snippets[0].text, first(snippets)
    assert not any("_reportSecret" in s.text for s in snippets)
