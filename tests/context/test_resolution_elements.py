"""Receivers that are elements of containers, read from generic type arguments (``Map<K, V>.get`` -> V, ``Vec<T>``,
``impl Iterator<Item = &T>``, ``list[T]``), loop and closure variables, ``(x as any)``, ``x.clone()``: what ``x.``
resolves to."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolution_helpers import CURSOR, types_at_cursor

from qwen_lsp.context.repository import RepositoryContext

TS = {
    "src/value.ts": "export class ObservableValue<T> {\n  setNewValue_(v: T): void {\n    return\n  }\n"
    "  prepareNewValue_(v: T): T {\n    return v\n  }\n}\n"
}
TS_HEAD = (
    "import { ObservableValue } from './value'\n\nexport class ObservableMap<K, V> {\n"
    "  data_!: Map<K, ObservableValue<V>>\n  list_: Array<ObservableValue<V>> = []\n\n  remove(key: K) {\n"
)


@pytest.mark.parametrize(
    "tail",
    [
        "    const observable = this.data_.get(key)!\n    observable.",  # Map<K, V>.get -> V
        "    const observable = this.data_.get(key)!\n    const v = (observable as any).",  # a cast to any
        "    this.list_[0].",  # Array<T> indexed
        "    for (const observable of this.list_) {\n      observable." + CURSOR + "\n    }",  # for..of
        "    this.list_.forEach((observable) => observable." + CURSOR + ")",  # a callback's parameter
    ],
    ids=["map-get", "as-any", "index", "for-of", "callback"],
)
def test_typescript_element_types(engine: RepositoryContext, tmp_path: Path, tail: str) -> None:
    assert types_at_cursor(
        engine, tmp_path / "repo", TS, "src/map.ts", TS_HEAD + tail + TS_TAIL[CURSOR in tail :], "typescript"
    ) == ["ObservableValue"]


RUST = {
    "Cargo.toml": '[package]\nname = "cli"\n',
    "src/arg.rs": "pub struct Arg {\n    name: String,\n}\n\nimpl Arg {\n"
    "    pub fn is_last_set(&self) -> bool {\n        false\n    }\n}\n",
    "src/command.rs": "use crate::arg::Arg;\n\npub struct Command {\n    args: Vec<Arg>,\n}\n\nimpl Command {\n"
    "    pub fn get_arguments(&self) -> impl Iterator<Item = &Arg> {\n        self.args.iter()\n    }\n"
    "    pub fn get_args(&self) -> &[Arg] {\n        &self.args\n    }\n}\n",
}
TS_TAIL = CURSOR + "\n  }\n}\n"  # after a cursor placed in ``tail``: the closing brackets only
RUST_HEAD = "use crate::arg::Arg;\nuse crate::command::Command;\n\nfn check(cmd: &Command) -> bool {\n"


@pytest.mark.parametrize(
    "tail",
    [
        "    for arg in cmd.get_arguments() {\n        arg.",  # impl Iterator<Item = &T>
        "    for arg in cmd.get_args().iter() {\n        arg.",  # &[T], an adapter
        "    cmd.get_arguments().filter(|a| a.",  # a closure passed to an adapter
        "    let show = |v: &Arg| v.",  # a typed closure parameter
        "    let first = cmd.get_args().first().unwrap().clone();\n    first.",  # element, then the value itself
    ],
    ids=["for-iterator", "for-slice", "closure", "typed-closure", "first-unwrap-clone"],
)
def test_rust_element_types(engine: RepositoryContext, tmp_path: Path, tail: str) -> None:
    assert types_at_cursor(
        engine, tmp_path / "repo", RUST, "src/check.rs", RUST_HEAD + tail + CURSOR + "\n}\n", "rust"
    ) == ["Arg"]


def test_python_loop_over_annotated_list(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/segment.py": "class Segment:\n    def split_cells(self, cut):\n        return cut\n",
    }
    main = (
        "from .segment import Segment\n\n\nclass Lines:\n    def __init__(self, segments: list[Segment]):\n"
        "        self.segments = segments\n\n    def render(self, segments: list[Segment]):\n"
        "        for segment in segments:\n            segment."
    )
    assert types_at_cursor(engine, tmp_path / "repo", files, "pkg/lines.py", main, "python") == ["Segment"]


def test_java_lambda_over_a_typed_list(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "src/org/x/Node.java": "package org.x;\n\npublic class Node {\n    public String outerHtml() {\n"
        "        return null;\n    }\n}\n"
    }
    main = (
        "package org.x;\n\nimport java.util.List;\n\npublic class Walker {\n    void walk(List<Node> nodes) {\n"
        "        nodes.forEach(node -> node." + CURSOR + ");\n    }\n}\n"
    )
    assert types_at_cursor(engine, tmp_path / "repo", files, "src/org/x/Walker.java", main, "java") == ["Node"]
