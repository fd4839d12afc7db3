"""Go (receivers, struct fields, embedded structs, package members in any file), Rust (``use`` paths with groups,
``pub use``, ``Type::new()``, ``let x: T``, trait default methods) and Java (fields and locals with their declared
type, same-package classes, inherited members)."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolution_helpers import CURSOR, definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext

GO = {
    "go.mod": "module example.com/shop\n",
    "store/base.go": "package store\n\ntype Base struct {\n\tname string\n}\n\n// Close closes.\n"
    "func (b *Base) Close() error {\n\treturn nil\n}\n",
    "store/db.go": "package store\n\ntype DB struct {\n\tBase\n\tconn *Conn\n}\n\n"
    "func Open(path string) (*DB, error) {\n\treturn &DB{}, nil\n}\n",
    "store/query.go": "package store\n\n// Query runs a query.\nfunc (d *DB) Query(q string) (*Rows, error) {\n"
    "\treturn nil, nil\n}\n\ntype Conn struct{}\n\ntype Rows struct{}\n",
    # same-named methods on other types, in a package that sorts first
    "a/other.go": "package a\n\ntype Cache struct{}\n\nfunc (c *Cache) Query(q string) int {\n\treturn 0\n}\n\n"
    "func (c *Cache) Close() error {\n\treturn nil\n}\n",
}
GO_MAIN = 'package main\n\nimport "example.com/shop/store"\n\ntype App struct {\n\tdb *store.DB\n}\n\n'


@pytest.mark.parametrize(
    "tail",
    [
        'func run() {\n\tdb, err := store.Open("x")\n\tdb.Query(',  # call with an annotated result
        "func run(db *store.DB) {\n\tdb.Query(",  # typed parameter
        "func (a *App) Run() {\n\ta.db.Query(",  # receiver, then a struct field
        "func run() {\n\tdb := &store.DB{}\n\tdb.Query(",  # composite literal
        "func run(node any) {\n\tdb, ok := node.(*store.DB)\n\tdb.Query(",  # type assertion
        "func run(\n\tpath string,\n\tdb *store.DB,\n) {\n\tdb.Query(",  # a parameter on a line of its own
    ],
    ids=["result-type", "parameter", "receiver-field", "literal", "type-assertion", "parameter-line"],
)
def test_go_receiver_types(engine: RepositoryContext, tmp_path: Path, tail: str) -> None:
    snippets = definitions_at_end(engine, tmp_path / "repo", GO, "main.go", GO_MAIN + tail, "go")
    assert snippets[0].path == "store/query.go" and "func (d *DB) Query(" in snippets[0].text, first(snippets)


def test_go_embedded_struct_member(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = definitions_at_end(
        engine, tmp_path / "repo", GO, "main.go", GO_MAIN + "func run(db *store.DB) {\n\tdb.Close(", "go"
    )
    assert snippets[0].path == "store/base.go", first(snippets)


def test_go_type_outline_lists_methods_of_other_files(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = definitions_at_end(
        engine, tmp_path / "repo", GO, "main.go", GO_MAIN + "func run(db *store.DB) {\n\tdb.", "go"
    )
    assert snippets[0].path == "store/db.go" and snippets[0].text.startswith("type DB struct {"), first(snippets)
    assert any(
        s.path == "store/query.go" and s.text == "func (d *DB) Query(q string) (*Rows, error)" for s in snippets[1:3]
    ), snippets


RUST = {
    "Cargo.toml": '[package]\nname = "x"\n',
    "src/lib.rs": "pub mod net;\npub mod store;\n",
    "src/net/mod.rs": "pub mod client;\npub use client::Client;\n",
    "src/net/client.rs": (
        "use crate::store::Cache;\n\npub trait Closer {\n    fn close(&self) -> bool {\n        true\n    }\n}\n\n"
        "pub struct Client {\n    cache: Cache,\n}\n\nimpl Client {\n    pub fn new(url: &str) -> Self {\n"
        "        Client { cache: Cache::default() }\n    }\n\n    pub fn send(&self, body: &str) -> usize {\n"
        "        body.len()\n    }\n}\n\nimpl Closer for Client {}\n"
    ),
    "src/store.rs": "#[derive(Default)]\npub struct Cache {}\n\nimpl Cache {\n"
    "    pub fn get(&self, key: &str) -> Option<String> {\n        None\n    }\n}\n",
    "src/types.rs": "pub type Handle<'a> = crate::net::client::Client;\n",
    "src/_a.rs": "pub struct Other {}\n\nimpl Other {\n    pub fn new() -> Self {\n        Other {}\n    }\n"
    "    pub fn send(&self) {}\n    pub fn get(&self) {}\n    pub fn close(&self) {}\n}\n",
}
RUST_MAIN = "use crate::net::{Client, client};\n\nfn main() {\n"
SEND = "pub fn send(&self, body: &str)"
OUTLINE = "pub struct Client {\n    cache: Cache,\n}\npub fn"  # its members listed under it


def test_rust_crate_used_by_name_from_its_examples(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {**RUST, "src/lib.rs": RUST["src/lib.rs"] + "pub use net::Client;\n"}
    for i in range(5):  # more same-named types than a guess by name alone would rank
        files[f"src/other{i}.rs"] = (
            "pub struct Client {}\n\nimpl Client {\n    pub fn new(u: &str) -> Self {\n"
            "        Client {}\n    }\n    pub fn send(&self) {}\n}\n"
        )
    main = 'use x::{Client};\n\nfn main() {\n    let c = Client::new("u")\n        .send('
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "examples/demo.rs", main, "rust")
    assert snippets[0].text.lstrip().startswith("pub fn send(&self, body: &str)"), first(snippets)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ('    let c = Client::new("x");\n    c.send(', "pub fn send(&self, body: &str)"),  # T::new() -> Self
        ("    Client::new(", "pub fn new(url: &str) -> Self"),  # use group + pub use
        ("    crate::net::client::Client::new(", "pub fn new(url: &str) -> Self"),  # a crate:: path
        ("    let c: Client = make();\n    c.cache.get(", "pub fn get(&self, key: &str)"),  # let x: T, then a field
        ('    let c = Client::new("x");\n    c.close(', "fn close(&self) -> bool"),  # trait default method
        ("}\n\nfn run(\n    n: u32,\n    c: Client,\n) {\n    c.send(", "pub fn send(&self, body: &str)"),
        ("}\n\nfn run(\n    c: Result<Client, String>,\n) {\n    c.send(", SEND),
        ("}\n\nfn run(h: crate::types::Handle) {\n    h.send(", "pub fn send(&self, body: &str)"),  # an alias
        ("}\n\nfn run(o: Option<Client>) {\n    match o {\n        None => {}\n        Some(v) => v.", OUTLINE),
        (
            "}\n\nfn pick() -> Option<Client> {\n    None\n}\n\nfn run() {\n    if let Some(c) = pick() {\n        c.send(",
            SEND,
        ),
        (
            "}\n\nfn make() -> crate::net::Client {\n    todo!()\n}\n\nfn run() {\n    make().send(",
            "pub fn send(&self, body: &str)",
        ),
    ],
    ids=[
        "new-self",
        "use-group",
        "crate-path",
        "let-typed-field",
        "trait-method",
        "parameter-line",
        "parameter-line-generic",
        "alias",
        "match-arm",
        "if-let",
        "path-result",
    ],
)
def test_rust_paths_and_types(engine: RepositoryContext, tmp_path: Path, tail: str, expected: str) -> None:
    snippets = definitions_at_end(engine, tmp_path / "repo", RUST, "src/main.rs", RUST_MAIN + tail, "rust")
    assert snippets[0].text.lstrip().startswith(expected), first(snippets)


@pytest.mark.parametrize(
    ("open_rel", "use"),
    [
        ("src/net/wire/frame.rs", "super::super::util::encode"),  # a file's module is its name: super = its folder
        ("src/net/wire/mod.rs", "super::util::encode"),  # mod.rs is its folder's module: super = the one above
        ("src/net/wire.rs", "super::util::encode"),  # 2018 layout: wire.rs is net::wire
        ("src/net/wire/frame.rs", "crate::net::util::encode"),
    ],
)
def test_rust_super_paths_from_a_file_and_from_mod_rs(
    engine: RepositoryContext, tmp_path: Path, open_rel: str, use: str
) -> None:
    files = {"Cargo.toml": '[package]\nname = "x"\n', "src/lib.rs": "pub mod net;\n"}
    for folder in ("net", "disk", "mem"):  # the same name in three modules: a guess by name cannot tell them apart
        files[f"src/{folder}/util.rs"] = f"pub fn encode(frame: &[u8], {folder}: bool) -> Vec<u8> {{\n    vec![]\n}}\n"
    text = f"use {use};\n\nfn send(b: &[u8]) -> Vec<u8> {{\n    encode("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, open_rel, text, "rust")
    assert snippets and "net: bool" in snippets[0].text, first(snippets)
    assert all(s.score < snippets[0].score for s in snippets[1:] if "fn encode" in s.text), first(snippets)


JAVA = {
    "src/com/acme/net/Base.java": "package com.acme.net;\n\npublic abstract class Base {\n"
    "    public void close() {\n    }\n}\n",
    "src/com/acme/net/Client.java": "package com.acme.net;\n\npublic class Client extends Base {\n"
    "    public static Client create(String url) {\n        return new Client();\n"
    "    }\n\n    public String send(String body) {\n        return body;\n    }\n}\n",
    "src/com/acme/app/Helper.java": "package com.acme.app;\n\nclass Helper {\n"
    "    static int assist(int x) {\n        return x;\n    }\n}\n",
    "src/com/_a/Mailer.java": "package com._a;\n\npublic class Mailer {\n    public void send(String m) {\n    }\n"
    "    public void close() {\n    }\n    static int assist(int x) {\n        return 0;\n"
    "    }\n}\n",
}
JAVA_MAIN = (
    "package com.acme.app;\n\nimport com.acme.net.Client;\n\npublic class App {\n"
    '    private final Client client = Client.create("x");\n\n    void run() {\n'
)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("        client.send(", "public String send(String body)"),  # a field with its declared type
        ("        this.client.send(", "public String send(String body)"),
        ('        Client local = Client.create("y");\n        local.send(', "public String send(String body)"),
        ('        var c = Client.create("y");\n        c.send(', "public String send(String body)"),  # result type
        ("        client.close(", "public void close()"),  # inherited
        ("        Helper.assist(", "static int assist(int x)"),  # same package, no import
    ],
    ids=["field", "this-field", "local", "var-result", "inherited", "same-package"],
)
def test_java_declared_types(engine: RepositoryContext, tmp_path: Path, tail: str, expected: str) -> None:
    snippets = definitions_at_end(
        engine, tmp_path / "repo", JAVA, "src/com/acme/app/App.java", JAVA_MAIN + tail + CURSOR + "\n    }\n}\n", "java"
    )
    assert snippets[0].text.lstrip().startswith(expected), first(snippets)


def test_go_package_member_in_any_of_many_files(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        **GO,
        **{f"store/f{i}.go": f"package store\n\nfunc Helper{i}() int {{\n\treturn {i}\n}}\n" for i in range(6)},
    }
    files["store/zz.go"] = (
        "package store\n\n// Migrate upgrades the schema.\nfunc Migrate(db *DB) error {\n\treturn nil\n}\n"
    )
    files["a/other.go"] += "\nfunc Migrate(x int) error {\n\treturn nil\n}\n"
    snippets = definitions_at_end(
        engine, tmp_path / "repo", files, "main.go", GO_MAIN + "func run() {\n\tstore.Migrate(", "go"
    )
    assert snippets[0].path == "store/zz.go", first(snippets)


def test_java_static_import_and_inherited_bare_call(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        **JAVA,
        "src/com/acme/util/Strings.java": "package com.acme.util;\n\npublic final class Strings {\n"
        "    public static String lower(String s) {\n"
        "        return s.toLowerCase();\n    }\n}\n",
        "src/com/_a/Other.java": "package com._a;\n\nclass Other {\n    static String lower(int x) {\n"
        "        return null;\n    }\n}\n",
    }
    main = (
        "package com.acme.app;\n\nimport static com.acme.util.Strings.lower;\nimport com.acme.net.Client;\n\n"
        "public class Special extends Client {\n    void run() {\n        String s = lower("
        + CURSOR
        + ");\n        close("
        + "\n    }\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/com/acme/app/Special.java", main, "java")
    assert snippets[0].path == "src/com/acme/util/Strings.java", first(snippets)
    inherited = main.replace(CURSOR, "").replace("close(", "close(" + CURSOR)
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/com/acme/app/Special.java", inherited, "java")
    assert snippets[0].text.lstrip().startswith("public void close()"), first(snippets)


def test_java_same_package_constructor_at_the_cursor_ranks_first(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        **JAVA,
        "src/com/acme/app/Builder.java": "package com.acme.app;\n\nclass Builder {\n    Builder() {\n    }\n}\n",
    }
    main = (
        "package com.acme.app;\n\nimport com.acme.net.Client;\n\npublic class Start {\n    void run() {\n"
        '        Client c = Client.create("x");\n        Builder b = new Builder(' + CURSOR + ");\n    }\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/com/acme/app/Start.java", main, "java")
    assert snippets[0].path == "src/com/acme/app/Builder.java", first(snippets)
