"""What the cursor refers to when the qualifier says little: a member typed in full whose qualifier resolves to
nothing that has it (an object assembled at run time), a call of the enclosing class's own method as the head of a
chain (``attributes().get(`` in Java), and a member found through an uncertain receiver type that must still rank
above the names merely near the cursor."""

from __future__ import annotations

from pathlib import Path

from resolution_helpers import CURSOR, definitions_at_end, first

from qwen_lsp.context.repository import RepositoryContext

# ``observable`` is assembled at run time from an object literal: no type says it has ``array``
OBSERVABLE = {
    "src/internal.ts": "export * from './api/observable';\n",
    "src/api/observable.ts": "const factories = {\n"
    "    box(value: any) {\n        return value;\n    },\n"
    "    array(initialValues?: any[], options?: object): any[] {\n        return initialValues || [];\n    },\n"
    "};\n\n"
    "export var observable = assign(createObservable, factories);\n",
}


def test_member_by_name_when_the_qualifier_resolves_to_nothing_that_has_it(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    snippets = definitions_at_end(
        engine,
        tmp_path / "repo",
        OBSERVABLE,
        "src/types/modifiers.ts",
        "import { observable } from '../internal';\n\nexport function deep(v: any) {\n    return observable.array(",
        "typescript",
    )
    assert snippets and "array(initialValues?: any[]" in snippets[0].text, first(snippets)


def test_no_member_by_name_for_a_package_outside_the_workspace(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "go.mod": "module example.com/cfg\n",
        "cfg.go": "package cfg\n\n// New makes a config.\nfunc New() *Config {\n\treturn nil\n}\n\ntype Config struct{}\n",
    }
    main = 'package cfg\n\nimport "github.com/stretchr/testify/assert"\n\nfunc check() {\n\ta := assert.New('
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "cfg_test.go", main, "go")
    assert not any("func New()" in s.text for s in snippets), snippets


JAVA = {
    # the same method in a class whose path sorts first: a guess by the member's name alone may pick it
    "src/org/a/Decoy.java": "package org.a;\n\npublic class Decoy {\n"
    "    public String getIgnoreCase(int index) {\n        return null;\n    }\n}\n",
    "src/org/x/nodes/Attributes.java": "package org.x.nodes;\n\npublic class Attributes {\n"
    "    public String getIgnoreCase(String key) {\n        return null;\n    }\n}\n",
    # imported and on the cursor line, but not what the cursor calls
    "src/org/x/internal/StringUtil.java": "package org.x.internal;\n\npublic final class StringUtil {\n"
    "    public static String resolve(String base, String rel) {\n        return rel;\n    }\n}\n",
    # other classes with a method of the same name: a guess by method name alone finds too many to choose from
    **{
        f"src/org/x/other/Other{i}.java": f"package org.x.other;\n\npublic class Other{i} {{\n"
        f"    public Object attributes() {{\n        return null;\n    }}\n}}\n"
        for i in range(5)
    },
}
NODE = (
    "package org.x.nodes;\n\nimport org.x.internal.StringUtil;\n\npublic class Node {\n"
    "    public Attributes attributes() {\n        return null;\n    }\n\n"
    "    String absUrl(String key) {\n        return StringUtil.resolve(key, attributes().getIgnoreCase("
    + CURSOR
    + "));\n    }\n}\n"
)


def test_call_of_the_enclosing_class_method_as_chain_head(engine: RepositoryContext, tmp_path: Path) -> None:
    snippets = definitions_at_end(engine, tmp_path / "repo", JAVA, "src/org/x/nodes/Node.java", NODE, "java")
    assert snippets and "getIgnoreCase(String key)" in snippets[0].text, first(snippets)


def test_member_through_an_uncertain_receiver_ranks_above_nearby_names(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    files = {
        "src/org/x/nodes/Node.java": "package org.x.nodes;\n\npublic abstract class Node {\n"
        "    /** Get a child node by its index. */\n    public Node childNode(int index) {\n        return null;\n"
        "    }\n}\n",
        "src/org/x/nodes/Element.java": "package org.x.nodes;\n\npublic class Element extends Node {\n"
        + "".join(f"    public String text{i}() {{\n        return null;\n    }}\n" for i in range(30))
        + "}\n",
        "src/org/x/nodes/TextNode.java": "package org.x.nodes;\n\npublic class TextNode extends Node {\n"
        + "".join(f"    public String whole{i}() {{\n        return null;\n    }}\n" for i in range(30))
        + "}\n",
    }
    # a test elsewhere: Element is found by a workspace-wide guess, childNode in its base class; TextNode, imported
    # and on the cursor line, is certain but not what the cursor calls
    main = (
        "package org.x.parser;\n\nimport org.x.nodes.TextNode;\n\nclass ParserTest {\n    void parses(Element p) {\n"
        "        TextNode text = (TextNode) p.childNode(" + CURSOR + "0);\n    }\n}\n"
    )
    snippets = definitions_at_end(
        engine, tmp_path / "repo", files, "src/test/org/x/parser/ParserTest.java", main, "java", budget=1024
    )
    assert snippets and "public Node childNode(int index)" in snippets[0].text, first(snippets)


def test_untyped_variable_named_after_its_type(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {
        "Cargo.toml": '[package]\nname = "x"\n',
        "src/lib.rs": "pub mod arg;\n",
        "src/arg.rs": "pub struct Arg {\n    last: bool,\n}\n\nimpl Arg {\n"
        "    pub fn is_last_set(&self) -> bool {\n        self.last\n    }\n}\n",
        # the same method on another type, in a file that sorts first: a guess by the method's name picks it
        "src/_a.rs": "pub struct Flag {}\n\nimpl Flag {\n    pub fn is_last_set(&self) -> bool {\n        false\n"
        "    }\n}\n",
    }
    main = "use crate::arg::Arg;\n\nfn check(args: &[Arg]) -> bool {\n    args.iter().any(|arg| arg.is_last_set("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "src/check.rs", main, "rust")
    assert snippets and "self.last" in snippets[0].text, first(snippets)


def test_a_name_from_an_own_module_the_resolution_cannot_follow_is_looked_up_by_name(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    files = {  # compat modules often re-export at run time: no import or definition says compat has json_dumps
        "pkg/__init__.py": "",
        "pkg/compat.py": "import os\nfrom . import _speedups\n\nif os.environ.get('PURE'):\n    from ._pure import *\n"
        "else:\n    globals().update(vars(_speedups))\n",
        "pkg/_speedups.py": "def json_dumps(value, indent=None):\n    return str(value)\n",
    }
    text = "from .compat import json_dumps\n\n\ndef save(v):\n    return json_dumps("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "pkg/app.py", text, "python")
    assert snippets and "def json_dumps(value, indent=None)" in snippets[0].text, first(snippets)


def test_a_name_imported_from_a_package_is_not_looked_up_by_name(engine: RepositoryContext, tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/_speedups.py": "def dumps(value, indent=None):\n    return str(value)\n"}
    text = "from ujson import dumps\n\n\ndef save(v):\n    return dumps("
    snippets = definitions_at_end(engine, tmp_path / "repo", files, "pkg/app.py", text, "python")
    assert not any("def dumps" in s.text for s in snippets), first(snippets)
