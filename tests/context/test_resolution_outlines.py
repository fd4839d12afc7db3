"""Member outlines right after ``x.`` / ``Type.``: a large type's members ranked by how much the repository uses
them, signatures read past javadoc comments, members private to a package listed for code in that package (and
``private`` ones not for other classes), a Rust parameter's borrowed type."""

from __future__ import annotations

from pathlib import Path

from resolution_helpers import definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext


def _go_command(methods: int) -> str:
    body = "".join(
        f"// ConfigureOptionNumber{i} sets option {i}.\n"
        f"func (c *Command) ConfigureOptionNumber{i}(value string, enabled bool) *Command {{\n\treturn c\n}}\n\n"
        for i in range(methods)
    )
    return "package cli\n\ntype Command struct {\n\tname string\n}\n\n" + body


def test_large_type_outline_ranks_members_the_repository_uses(engine: RepositoryContext, tmp_path: Path) -> None:
    last = 119
    files = {"go.mod": "module example.com/app\n", "cli/command.go": _go_command(last + 1)}
    for i in range(8):  # the last-declared member is the one used all over the repository
        files[f"cli/use{i}.go"] = (
            f'package cli\n\nfunc setup{i}(c *Command) {{\n\tc.ConfigureOptionNumber{last}("x", true)\n}}\n'
        )
    main = "package cli\n\nfunc run(c *Command) {\n\tc."
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "cli/run.go", main, "go")
    outline = "\n".join(s.text for s in snippets if s.path == "cli/command.go")
    assert f"ConfigureOptionNumber{last}" in outline, outline[-300:]


def test_java_outline_shows_signatures_not_javadoc(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "src/org/x/nodes/Attribute.java": "package org.x.nodes;\n\npublic class Attribute {\n"
        + "".join(
            f"    /**\n     Get part {i} of the attribute.\n     */\n    public String part{i}() {{\n"
            f"        return null;\n    }}\n\n"
            for i in range(8)
        )
        + "    /**\n     Get a valid attribute key for the given syntax.\n     */\n"
        "    public static String getValidKey(String key) {\n        return key;\n    }\n}\n"
    }
    main = (
        "package org.x.helper;\n\nimport org.x.nodes.Attribute;\n\nclass Dom {\n    void copy(String k) {\n"
        "        String key = Attribute."
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/org/x/helper/Dom.java", main, "java")
    assert snippets and snippets[0].path.endswith("Attribute.java"), first(snippets)
    assert "    public static String getValidKey(String key)" in snippets[0].text, snippets[0].text


GO_PACKAGE = {
    "go.mod": "module example.com/app\n",
    "cli/command.go": "package cli\n\ntype Command struct {\n\tname string\n}\n\n"
    "// Execute runs the command.\nfunc (c *Command) Execute() error {\n\treturn nil\n}\n\n"
    "func (c *Command) initCompleteCmd(args []string) {\n}\n",
}


def test_package_private_members_listed_inside_the_package(engine: RepositoryContext, tmp_path: Path) -> None:
    main = "package cli\n\nfunc run(c *Command) {\n\tc."
    snippets = definitions_at_end(engine, tmp_path / "repo", GO_PACKAGE, "cli/run.go", main, "go")
    outline = "\n".join(s.text for s in snippets if s.path == "cli/command.go")
    assert "initCompleteCmd" in outline and "Execute" in outline, outline


def test_package_private_members_not_listed_outside_it(engine: RepositoryContext, tmp_path: Path) -> None:
    main = 'package main\n\nimport "example.com/app/cli"\n\nfunc run(c *cli.Command) {\n\tc.'
    snippets = definitions_at_end(engine, tmp_path / "repo", GO_PACKAGE, "main.go", main, "go")
    outline = "\n".join(s.text for s in snippets if s.path == "cli/command.go")
    assert "Execute" in outline and "initCompleteCmd" not in outline, outline


def test_rust_parameter_of_a_borrowed_type(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[package]\nname = "x"\n',
        "src/lib.rs": "pub mod command;\n",
        "src/command.rs": "pub struct Command {\n    name: String,\n}\n\nimpl Command {\n"
        "    pub fn find(&self, id: &str) -> Option<&str> {\n        None\n    }\n}\n",
        "src/_a.rs": "pub struct Other {}\n\nimpl Other {\n    pub fn find(&self) {}\n}\n",
    }
    main = "use crate::command::Command;\n\nfn conflicts(cmd: &Command, id: &str) {\n    let arg = cmd.find("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/validator.rs", main, "rust")
    assert snippets and snippets[0].text.lstrip().startswith("pub fn find(&self, id: &str)"), first(snippets)


def test_inherited_members_ranked_with_the_types_own(engine: RepositoryContext, tmp_path: Path) -> None:
    # Element and Node have 60 members each: Node's siblingNodes, used all over the repository, ranks with
    # Element's own (an outline per class would show Element's first and leave no room for Node's)
    own = "".join(
        f"    public Element withAttributeNumber{i}(String value) {{\n        return this;\n    }}\n" for i in range(60)
    )
    files = {
        "src/org/x/Node.java": "package org.x;\n\npublic abstract class Node {\n"
        + own.replace("Element with", "Node nodeWith")
        + "    public java.util.List<Node> siblingNodes() {\n        return null;\n    }\n}\n",
        "src/org/x/Element.java": "package org.x;\n\npublic class Element extends Node {\n" + own + "}\n",
        **{
            f"src/org/x/Use{i}.java": f"package org.x;\n\nclass Use{i} {{\n    int n(Node n) {{\n"
            "        return n.siblingNodes().size();\n    }\n}\n"
            for i in range(8)
        },
    }
    main = "package org.x;\n\nclass Walker {\n    void walk(Element el) {\n        int n = el."
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/org/x/Walker.java", main, "java", budget=700)
    assert any(s.path == "src/org/x/Node.java" and "siblingNodes()" in s.text for s in snippets), [
        (s.path, s.text[:60]) for s in snippets
    ]


def test_a_cast_to_any_lists_private_members(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "src/value.ts": "export class ObservableValue<T> {\n  private prepareNewValue_(v: T): T {\n    return v\n  }\n"
        + "".join(f"  public step{i}(v: T): T {{\n    return v\n  }}\n" for i in range(12))
        + "}\n"
    }
    main = (
        "import { ObservableValue } from './value'\n\nexport function update(observable: ObservableValue<number>) {\n"
        "  const v = (observable as any)."
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/update.ts", main, "typescript")
    assert snippets and "prepareNewValue_" in snippets[0].text, first(snippets)
