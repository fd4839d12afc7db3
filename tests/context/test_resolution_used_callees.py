"""Before a bare name is typed, the context lists what the code around the cursor already calls: functions of the
same package (Go), imported ones (Python), the enclosing class's inherited methods (Java)."""

from __future__ import annotations

from pathlib import Path

import pytest
from resolution_helpers import CURSOR, definitions_at_end

from qwen_lsp.context.repository import RepositoryContext
from qwen_lsp.context.sources import used_callees

FILLER = "".join(f"\tx{i} := {i}\n\t_ = x{i}\n" for i in range(12))  # the earlier calls are out of the nearby lines


def test_go_same_package_function_the_file_calls(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "go.mod": "module example.com/cfg\n",
        "util.go": "package cfg\n\n// stringInSlice reports whether a is in list.\n"
        "func stringInSlice(a string, list []string) bool {\n\treturn false\n}\n",
        "other.go": "package cfg\n\nfunc unrelated() int {\n\treturn 0\n}\n",
    }
    main = (
        'package cfg\n\nfunc first(keys []string) bool {\n\treturn stringInSlice("a", keys)\n}\n\n'
        "func second(keys []string) bool {\n" + FILLER + "\tif !" + CURSOR + "\n\treturn true\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "viper.go", main, "go")
    assert any(
        s.path == "util.go" and "func stringInSlice(a string, list []string) bool" in s.text for s in snippets
    ), [(s.path, s.text[:60]) for s in snippets]


def test_java_inherited_method_the_class_calls(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "src/org/x/nodes/TextNode.java": "package org.x.nodes;\n\npublic class TextNode {\n"
        + "".join(f"    public String part{i}() {{\n        return null;\n    }}\n" for i in range(40))
        + "    public String getWholeText() {\n        return null;\n    }\n}\n"
    }
    main = (
        "package org.x.nodes;\n\npublic class CDataNode extends TextNode {\n    public String text() {\n"
        "        return getWholeText();\n    }\n\n"
        + "".join(f"    int f{i}() {{\n        return {i};\n    }}\n" for i in range(4))
        + "    void outer(StringBuilder accum) {\n        accum.append("
        + CURSOR
        + ");\n    }\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/org/x/nodes/CDataNode.java", main, "java")
    assert any("public String getWholeText()" in s.text for s in snippets), [(s.path, s.text[:60]) for s in snippets]


def test_go_package_functions_not_called_yet_most_used_first(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "go.mod": "module example.com/doc\n",
        "util.go": "package doc\n\n// hasSeeAlso reports whether the command has related commands.\n"
        "func hasSeeAlso(name string) bool {\n\treturn false\n}\n",
        **{f"gen{i}.go": f'package doc\n\nfunc gen{i}() bool {{\n\treturn hasSeeAlso("x")\n}}\n' for i in range(3)},
    }
    main = "package doc\n\nfunc genMarkdown(name string) error {\n" + FILLER + "\tif " + CURSOR + "\n\treturn nil\n}\n"
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "md_docs.go", main, "go")
    assert any(s.path == "util.go" and "func hasSeeAlso(name string) bool" in s.text for s in snippets), [
        (s.path, s.text[:60]) for s in snippets
    ]


def test_called_import_listed_by_its_signature_not_its_body(engine: RepositoryContext, tmp_path: Path) -> None:
    body = "".join(f"    step{i} = value + {i}\n" for i in range(10))
    files = {"pkg/__init__.py": "", "pkg/utils.py": f"def to_native(value):\n{body}    return value\n"}
    main = (
        "from .utils import to_native\n\n\ndef first(x):\n    return to_native(x)\n\n\n"
        "def second(y):\n" + "".join(f"    y{i} = y\n" for i in range(10)) + "    return " + CURSOR + "\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "pkg/sessions.py", main, "python")
    texts = [s.text for s in snippets if s.path == "pkg/utils.py"]
    assert "def to_native(value):" in texts and not any("step9" in t for t in texts), texts


def test_used_callees_take_their_share_of_a_lifted_time_budget(
    engine: RepositoryContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a machine so loaded that the fixed minimum is spent at once: the share of the (1 s) budget still lists them
    monkeypatch.setattr(used_callees, "MAX_SECONDS", 0.0)
    files = {
        "go.mod": "module example.com/cfg\n",
        "util.go": "package cfg\n\nfunc stringInSlice(a string, list []string) bool {\n\treturn false\n}\n",
    }
    main = (
        'package cfg\n\nfunc first(keys []string) bool {\n\treturn stringInSlice("a", keys)\n}\n\n'
        "func second(keys []string) bool {\n" + FILLER + "\tif !" + CURSOR + "\n\treturn true\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "viper.go", main, "go")
    assert any("func stringInSlice(a string, list []string) bool" in s.text for s in snippets), [
        (s.path, s.text[:60]) for s in snippets
    ]


def test_a_large_class_named_near_the_cursor_is_shown_by_its_header_and_first_members(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    # ``Node node`` near the cursor names a class of 60 members: not 40 lines of it, the budget is for the callees
    members = "".join(
        f"    public Node withAttributeNumber{i}(String value) {{\n        return this;\n    }}\n" for i in range(60)
    )
    files = {
        "src/org/x/nodes/Node.java": "package org.x.nodes;\n\n/**\n * About nodes.\n */\npublic class Node {\n"
        + members
        + "}\n",
        "src/org/x/parser/TreeBuilder.java": "package org.x.parser;\n\nimport org.x.nodes.Node;\n\n"
        "public class TreeBuilder {\n    protected void onNodeInserted(Node node, String token) {\n"
        "        node.hashCode();\n    }\n}\n",
    }
    main = (
        "package org.x.parser;\n\nimport org.x.nodes.Node;\n\npublic class XmlTreeBuilder extends TreeBuilder {\n"
        "    void insert(Node node, String token) {\n        onNodeInserted(node, null);\n        "
        + CURSOR
        + "\n    }\n}\n"
    )
    snippets = definitions_at_end(
        engine, tmp_path / "repo", files, "src/org/x/parser/XmlTreeBuilder.java", main, "java"
    )
    node = [s.text for s in snippets if s.path.endswith("Node.java")]
    assert node and node[0].startswith("public class Node {"), node
    assert node[0].count("\n") <= 14 and "About nodes" not in node[0], node
    assert any("onNodeInserted(Node node, String token)" in s.text for s in snippets), [s.text[:60] for s in snippets]


def test_inherited_methods_not_called_yet_listed_by_name_past_the_first(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    # a base class of 50 methods: the first few with their signature, the 45th still by name
    base = "".join(
        f"    protected void stepNumber{i}(String value) {{\n        value.trim();\n    }}\n" for i in range(50)
    )
    files = {"src/org/x/TreeBuilder.java": "package org.x;\n\npublic class TreeBuilder {\n" + base + "}\n"}
    main = (
        "package org.x;\n\npublic class XmlTreeBuilder extends TreeBuilder {\n    void insert(String token) {\n"
        "        " + CURSOR + "\n    }\n}\n"
    )
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/org/x/XmlTreeBuilder.java", main, "java")
    listed = [s.text for s in snippets if s.path == "src/org/x/TreeBuilder.java"]
    assert any("stepNumber44" in t for t in listed), listed
    assert not any("void stepNumber44(" in t for t in listed), listed  # by name only: the listing stays short
