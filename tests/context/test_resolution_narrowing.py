"""What narrows a receiver's type where no declaration says it: ``x instanceof T`` / ``isinstance(x, T)`` checks, a
TypeScript type guard ``(thing): thing is T``, a Java cast ``((T) x).``; and a comment ending in a period above the
cursor is not a member access."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolution_helpers import definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.resolution.references import reference_at

# ``indent`` is defined on two classes; the one whose path sorts first is not the one the check narrows to
JAVA = {
    "src/org/a/Decoy.java": "package org.a;\n\npublic class Decoy {\n    public boolean shouldIndent(int depth) {\n"
    "        return false;\n    }\n}\n",
    "src/org/x/nodes/Element.java": "package org.x.nodes;\n\npublic class Element {\n"
    + "".join(f"    int f{i}() {{\n        return {i};\n    }}\n" for i in range(6))
    + "    public boolean shouldIndent(String out) {\n        return out.isEmpty();\n    }\n}\n",
}


@pytest.mark.parametrize(
    "tail",
    [
        "        if (next instanceof Element) {\n            boolean skip = next.shouldIndent(",
        "        boolean skip = next != null && ((Element) next).shouldIndent(",
    ],
    ids=["instanceof", "cast"],
)
def test_java_narrowed_receiver(engine: RepositoryContext, tmp_path: Path, tail: str) -> None:
    main = "package org.y;\n\nclass TextNode {\n    void outer(Object next) {\n" + tail
    snippets = definitions_at_end(engine, tmp_path / "repo", JAVA, "src/org/y/TextNode.java", main, "java")
    assert snippets and "return out.isEmpty();" in snippets[0].text, first(snippets)


def test_python_isinstance_narrows(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/_a.py": "class Other:\n    def render(self, width):\n        return None\n",
        "pkg/segment.py": "class Segment:\n"
        + "".join(f"    def f{i}(self):\n        return {i}\n\n" for i in range(6))
        + "    def render(self, console, options):\n        return [console]\n",
    }
    main = "from .segment import Segment\n\n\ndef show(item, console):\n    if isinstance(item, Segment):\n"
    main += "        return item.render("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "pkg/show.py", main, "python")
    assert snippets and "return [console]" in snippets[0].text, first(snippets)


def test_typescript_type_guard_narrows(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "src/_a.ts": "export class Other {\n  materialize_(key: string): number {\n    return 0;\n  }\n}\n",
        "src/admin.ts": "export class Administration {\n  materialize_(key: string): boolean {\n    return true;\n"
        "  }\n}\n\nexport function isAdministration(thing: any): thing is Administration {\n"
        "  return thing instanceof Administration;\n}\n",
    }
    main = (
        "import { isAdministration } from './admin';\n\nexport function getAtom(thing: any) {\n"
        "  const adm = thing.admin;\n  if (isAdministration(adm)) {\n    return adm.materialize_("
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/utils.ts", main, "typescript")
    assert snippets and "materialize_(key: string): boolean" in snippets[0].text, first(snippets)


def test_comment_ending_in_a_period_is_not_a_member_access() -> None:
    assert reference_at("        if (done) {\n            // clean up after the dispose call.\n            ") is None


@pytest.mark.parametrize(
    "before",
    [
        "\t// assigned to any kind of node.\n\tast.",  # Go: the qualifier on the line under a comment's sentence
        "    /// Reads the next value.\n    buf.",  # a Rust doc comment
        "\tx := 1 // then the node.\n\tast.",  # a comment after code
    ],
)
def test_chain_stops_at_a_comment_above(before: str) -> None:
    ref = reference_at(before)
    assert ref is not None and ref.chain == (before.rsplit("\n", 1)[1].strip(" \t."),)
