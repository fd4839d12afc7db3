"""Imports resolved by the package manifest, as an IDE does: a Rust crate's ``Cargo.toml`` (crates of the workspace
used by name, path and workspace dependencies, renamed ones, ``-`` read as ``_``) and a Go module's ``go.mod``
(import paths under the module path, local ``replace`` directives, a package declaring a name other than its
folder's). Each repository has a decoy that resolving by the end of the path alone would pick."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolution_helpers import definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.resolution.manifests import crate_named

CORE = {
    "core-lib/src/lib.rs": "pub mod fips;\npub mod store;\n",
    "core-lib/src/fips.rs": "/// Whether FIPS mode is on.\npub fn is_enabled() -> bool {\n    false\n}\n",
    "core-lib/src/store.rs": "pub struct Cache {}\n\nimpl Cache {\n    pub fn lookup(&self, key: &str) -> bool {\n"
    "        key.is_empty()\n    }\n}\n",
    # the application's own store module, nearer to the file being edited
    "app/src/store.rs": "pub struct Cache {}\n\nimpl Cache {\n    pub fn evict(&self) {}\n}\n",
}
WORKSPACE = '[workspace]\nmembers = ["core-lib", "app"]\n'
CORE_TOML = '[package]\nname = "core-lib"\n'
APP_TOML = '[package]\nname = "app"\n\n[dependencies]\ncore-lib = { path = "../core-lib" }\n'


def _workspace(app_toml: str = APP_TOML) -> dict[str, str]:
    """A workspace of the core-lib crate and an app crate with the given manifest."""
    return {**CORE, "Cargo.toml": WORKSPACE, "core-lib/Cargo.toml": CORE_TOML, "app/Cargo.toml": app_toml}


@pytest.mark.parametrize(
    "dependency, name",
    [
        ('core-lib = { path = "../core-lib" }', "core_lib"),  # `-` read as `_`
        ('corelib = { path = "../core-lib", package = "core-lib" }', "corelib"),  # renamed
        ("core-lib = { workspace = true }", "core_lib"),  # declared in the workspace's manifest
    ],
    ids=["path", "renamed", "workspace"],
)
@pytest.mark.parametrize(
    "tail, expected",
    [
        ("    {name}::fips::", "pub fn is_enabled() -> bool"),  # a crate used by name, no `use`
        ("    let c = {name}::store::Cache {{}};\n    c.", "pub fn lookup(&self, key: &str) -> bool"),
    ],
    ids=["crate-path", "use-path"],
)
def test_rust_crate_of_the_workspace(
    engine: RepositoryContext, tmp_path: Path, dependency: str, name: str, tail: str, expected: str
) -> None:
    files = {
        **CORE,
        "Cargo.toml": WORKSPACE + '\n[workspace.dependencies]\ncore-lib = { path = "core-lib" }\n',
        "core-lib/Cargo.toml": CORE_TOML,
        "app/Cargo.toml": f'[package]\nname = "app"\n\n[dependencies]\n{dependency}\n',
    }
    text = "fn main() {\n" + tail.format(name=name)
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "app/src/main.rs", text, "rust")
    assert snippets and snippets[0].path.startswith("core-lib/src/") and expected in snippets[0].text, first(snippets)


GO = {
    "go.mod": "module example.com/shop\n\nreplace example.com/vendored/kv => ./third_party/kv\n",
    # the folder's name is not the package's
    "internal/go-store/store.go": "package store\n\n// Open opens a store.\nfunc Open(path string) error {\n"
    "\treturn nil\n}\n",
    # decoys: a package whose path ends the same way, nearer to the file being edited
    "tools/internal/go-store/store.go": "package store\n\nfunc Close() error {\n\treturn nil\n}\n",
    "tools/kv/kv.go": "package kv\n\nfunc Drop() {}\n",
    "third_party/kv/kv.go": "package kv\n\n// Put stores a value.\nfunc Put(key string) {}\n",
}


@pytest.mark.parametrize(
    "imports, tail, expected",
    [
        ('import "example.com/shop/internal/go-store"', "store.", ("internal/go-store/store.go", "func Open(")),
        ('import st "example.com/shop/internal/go-store"', "st.", ("internal/go-store/store.go", "func Open(")),
        ('import "example.com/vendored/kv"', "kv.", ("third_party/kv/kv.go", "func Put(")),
    ],
    ids=["declared-name", "module-path", "replace"],
)
def test_go_import_by_module_path(
    engine: RepositoryContext, tmp_path: Path, imports: str, tail: str, expected: tuple[str, str]
) -> None:
    text = f"package main\n\n{imports}\n\nfunc main() {{\n\t{tail}"
    snippets = definitions_at_end(engine, tmp_path / "repo", GO, "tools/cmd/main.go", text, "go")
    path, signature = expected
    assert snippets and snippets[0].path == path and signature in snippets[0].text, first(snippets)


@pytest.mark.parametrize(
    "post_mod", ["pub mod roberta;\n\npub use super::pre::level;\n", "pub mod roberta;\n\npub use super::pre::*;\n"]
)
def test_rust_module_reexported_under_another_path(engine: RepositoryContext, tmp_path: Path, post_mod: str) -> None:
    files = {
        "Cargo.toml": '[package]\nname = "tok"\n',
        "src/lib.rs": "pub mod a;\npub mod pre;\npub mod post;\n",
        "src/pre/mod.rs": "pub mod level;\n",
        "src/pre/level.rs": "pub fn process_offsets(n: usize) -> usize {\n    n\n}\n",
        "src/post/mod.rs": post_mod,
        # a decoy of the same name, in a module whose path sorts first
        "src/a/level.rs": "pub fn process_offsets(n: u8) -> u8 {\n    n\n}\n",
    }
    text = "use crate::post::level::process_offsets;\n\nfn run() {\n    process_offsets("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/post/roberta.rs", text, "rust")
    assert snippets and snippets[0].path == "src/pre/level.rs", first(snippets)


def test_rust_crate_bound_to_an_alias(engine: RepositoryContext, tmp_path: Path) -> None:
    files = _workspace()
    text = "use core_lib as cl;\n\nfn main() {\n    cl::fips::"
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "app/src/main.rs", text, "rust")
    assert snippets and snippets[0].path == "core-lib/src/fips.rs", first(snippets)


def test_rust_dependency_outside_the_folder_is_not_read(engine: RepositoryContext, tmp_path: Path) -> None:
    # the workspace folder is app/ alone; the crate it depends on lies next to it, outside: its manifest stays unread
    outside = tmp_path / "repo" / "core-lib"
    (outside / "src").mkdir(parents=True)
    (outside / "Cargo.toml").write_text('[package]\nname = "core-lib"\n')
    files = {"Cargo.toml": '[package]\nname = "app"\n\n[dependencies]\ncore-lib = { path = "../core-lib" }\n'}
    folder = tmp_path / "repo" / "app"
    definitions_at_end(engine, folder, files, "src/main.rs", "fn main() {\n    core_lib::fips::", "rust")
    assert crate_named(engine.index, folder.as_posix(), "src/main.rs", "core_lib") == ""
    assert crate_named(engine.index, folder.as_posix(), "src/main.rs", "app") == "src/lib"  # the crate itself


def test_rust_extern_crate_alias_in_the_crate_root(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {**_workspace(), "app/src/lib.rs": "extern crate core_lib as cl;\n\npub mod run;\n"}
    text = "pub fn run() {\n    cl::fips::"
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "app/src/run.rs", text, "rust")
    assert snippets and snippets[0].path == "core-lib/src/fips.rs", first(snippets)


@pytest.mark.parametrize(
    "app_toml",
    [
        '[package]\nname.workspace = true\n\n[dependencies]\ncore-lib = { path = "../core-lib" }\n',
        'lib = "oops"\n[package]\nname = "app"\n\n[dependencies]\ncore-lib = { path = 3 }\n',
        'dependencies = 3\n[package]\nname = ["app"]\n',
        "[package\nname = ",  # not TOML at all
    ],
    ids=["inherited-name", "wrong-types", "dependencies-not-a-table", "broken"],
)
def test_a_hand_edited_manifest_does_not_stop_the_context(
    engine: RepositoryContext, tmp_path: Path, app_toml: str
) -> None:
    files = _workspace(app_toml)
    text = "use crate::store::Cache;\n\nfn main() {\n    let c = Cache {};\n    c."
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "app/src/main.rs", text, "rust")
    assert any("pub fn evict(&self)" in s.text for s in snippets), first(snippets)  # (by the end of the path)
