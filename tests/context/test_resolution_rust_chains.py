"""Rust builder chains: a chain continued on the next line after a line comment, a chain that starts with a macro
defined in the repository (``command!()``), and a large type's members named compactly, those sharing words with
the members the code around calls first."""

from __future__ import annotations

import re
from pathlib import Path

from resolution_helpers import definitions_at_end, types_at_cursor

from qwen_lsp.context.repository import RepositoryContext

CARGO = '[package]\nname = "clapish"\nversion = "0.1.0"\n'
COMMAND = (
    "pub struct Command {\n    name: String,\n}\n\nimpl Command {\n"
    "    pub fn new(name: &str) -> Self {\n        Command { name: name.to_string() }\n    }\n"
    "    pub fn about(self, text: &str) -> Self {\n        self\n    }\n"
    "    pub fn get_matches(self) -> Vec<String> {\n        Vec::new()\n    }\n}\n"
)
MACROS = (
    '#[macro_export]\nmacro_rules! command {\n    () => {{\n        $crate::command!("app")\n    }};\n'
    "    ($name:expr) => {{\n        let cmd = $crate::Command::new($name);\n        cmd\n    }};\n}\n"
)
LIB = "pub mod builder;\nmod macros;\npub use builder::Command;\n"


def _repo() -> dict[str, str]:
    return {"Cargo.toml": CARGO, "src/lib.rs": LIB, "src/builder.rs": COMMAND, "src/macros.rs": MACROS}


def test_chain_continued_after_a_line_comment(engine: RepositoryContext, tmp_path: Path) -> None:
    main = (
        'use clapish::Command;\n\nfn main() {\n    let matches = Command::new("x") // the program\'s name\n'
        '        .about("demo")\n        .'
    )
    types = types_at_cursor(engine, tmp_path / "repo", _repo(), "examples/demo.rs", main, "rust")
    assert types == ["Command"], types


def test_chain_starting_with_a_macro_of_the_repository(engine: RepositoryContext, tmp_path: Path) -> None:
    main = 'use clapish::command;\n\nfn main() {\n    let matches = command!()\n        .about("demo")\n        .'
    types = types_at_cursor(engine, tmp_path / "repo", _repo(), "examples/demo.rs", main, "rust")
    assert types == ["Command"], types


def _large_builder(methods: int) -> str:
    body = "".join(
        f"    pub fn set_option_number_{i}(mut self, value: Option<String>, enabled: bool) -> Self {{\n"
        "        self\n    }\n"
        for i in range(methods)
    )
    late = (
        "    pub fn get_long_help(&self) -> Option<String> {\n        None\n    }\n"
        "    pub fn get_after_long_help(&self) -> Option<String> {\n        None\n    }\n"
    )
    return "pub struct Arg {\n    id: String,\n}\n\nimpl Arg {\n" + body + late + "}\n"


def test_large_type_members_sharing_words_with_the_calls_around_come_first(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    # 150 builder methods used nowhere; the code around calls get_after_long_help: get_long_help is named
    files = {"Cargo.toml": CARGO, "src/lib.rs": "pub mod arg;\n", "src/arg.rs": _large_builder(150)}
    main = (
        "use crate::arg::Arg;\n\nfn help(a: &Arg, b: &Arg) -> Option<String> {\n"
        "    let after = b.get_after_long_help();\n    a."
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/help.rs", main, "rust", budget=1024)
    outline = "\n".join(s.text for s in snippets if s.path == "src/arg.rs")
    assert "get_long_help" in outline, outline[-400:]


def test_a_large_type_names_more_of_its_members(engine: RepositoryContext, tmp_path: Path) -> None:
    # 150 builder methods alike: fewer signatures, more names, so the 66th is still listed
    files = {"Cargo.toml": CARGO, "src/lib.rs": "pub mod arg;\n", "src/arg.rs": _large_builder(150)}
    main = "use crate::arg::Arg;\n\nfn build(a: Arg) -> Arg {\n    a."
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/build.rs", main, "rust", budget=1024)
    outline = "\n".join(s.text for s in snippets if s.path == "src/arg.rs")
    assert re.search(r"\bset_option_number_65\b", outline), outline[-400:]
