"""Before a bare name in a Java-like class: the names of the methods it inherits (protected ones first, overridden
ones left out), and the class's own outline compact enough that the listing still fits the budget."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from resolution_helpers import CURSOR, definitions_at_end, open_at_cursor, types_at_cursor

from qwen_lsp.context.repository import RepositoryContext


def _subclass(body: str = "") -> str:
    return (
        "package org.x.json;\n\nimport org.x.base.ParserBase;\n\npublic class Utf8Parser extends ParserBase {\n"
        + body
        + "    int next(int c) {\n        return "
        + CURSOR
        + "\n    }\n}\n"
    )


def _base(methods: str) -> dict[str, str]:
    return {
        "src/org/x/base/ParserBase.java": "package org.x.base;\n\npublic abstract class ParserBase {\n"
        + methods
        + "}\n"
    }


def _listed(snippets: list, name: str) -> bool:
    return any(s.path.endswith("ParserBase.java") and name in s.text for s in snippets)


def test_java_underscore_member_of_a_base_in_another_package_is_listed(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    # ``_name`` is a naming habit in Java, not privacy: a protected ``_parseIntValue`` is callable from a subclass
    public = "".join(f"    public int value{i}() {{\n        return {i};\n    }}\n" for i in range(30))
    files = _base(public + "    protected int _parseIntValue(int expType) {\n        return expType;\n    }\n")
    snippets = definitions_at_end(
        engine, tmp_path / "repo", files, "src/org/x/json/Utf8Parser.java", _subclass(), "java"
    )
    assert _listed(snippets, "_parseIntValue"), [(s.path, s.text[:80]) for s in snippets]


def test_protected_inherited_methods_listed_before_public_ones(engine: RepositoryContext, tmp_path: Path) -> None:
    # 70 public methods and, declared last, the one protected helper meant for subclasses: past the listing's cut
    # unless the protected ones come first
    public = "".join(f"    public int value{i}() {{\n        return {i};\n    }}\n" for i in range(70))
    files = _base(public + "    protected int _reportInvalidNumber(int c) {\n        return c;\n    }\n")
    snippets = definitions_at_end(
        engine, tmp_path / "repo", files, "src/org/x/json/Utf8Parser.java", _subclass(), "java"
    )
    assert _listed(snippets, "_reportInvalidNumber"), [(s.path, s.text[:80]) for s in snippets]


def test_methods_the_class_overrides_are_not_listed_again(engine: RepositoryContext, tmp_path: Path) -> None:
    # the subclass overrides the base's 65 abstract methods (its own are in view): the base's one helper is listed
    abstract = "".join(f"    public abstract int token{i}();\n" for i in range(65))
    files = _base(abstract + "    public int resetFloat(boolean negative) {\n        return 0;\n    }\n")
    overrides = "".join(f"    public int token{i}() {{\n        return {i};\n    }}\n" for i in range(65))
    snippets = definitions_at_end(
        engine, tmp_path / "repo", files, "src/org/x/json/Utf8Parser.java", _subclass(overrides), "java"
    )
    assert _listed(snippets, "resetFloat"), [(s.path, s.text[:80]) for s in snippets]
    listings = [s.text for s in snippets if s.path.endswith("ParserBase.java") and "also:" in s.text]
    assert not any("token3" in t for t in listings), listings


def test_a_large_enclosing_class_outline_names_its_later_methods(engine: RepositoryContext, tmp_path: Path) -> None:
    # 90 methods with long signatures: the outline keeps its first lines, then names the others on one line
    own = "".join(
        f"    protected final String handleOddCharacterSequenceNumber{i}(String input, int offset, boolean strict) {{\n"
        "        return input;\n    }\n"
        for i in range(90)
    )
    files = _base("    protected int _parseIntValue(int expType) {\n        return expType;\n    }\n")
    request = open_at_cursor(
        engine, tmp_path / "repo", files, "src/org/x/json/Utf8Parser.java", _subclass(own), "java", budget=1024
    )
    request = replace(request, prefix_start=request.offset - 1500, suffix_end=request.offset + 30)  # as served
    outlines = [s for s in engine.gather(request).snippets if s.source == "outline" and "class Utf8Parser" in s.text]
    assert outlines and len(outlines[0].text) <= 1700, [len(s.text) for s in outlines]
    assert "also: " in outlines[0].text and "handleOddCharacterSequenceNumber20" in outlines[0].text, outlines[0].text


def test_field_inherited_from_a_base_class_resolves_to_its_type_past_its_javadoc(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    files = {
        "src/org/x/base/ParserBase.java": "package org.x.base;\n\nimport org.x.json.ReadContext;\n\n"
        "public abstract class ParserBase {\n    /**\n     * Where the parser is.\n     */\n"
        "    protected ReadContext _parsingContext;\n}\n",
        "src/org/x/json/ReadContext.java": "package org.x.json;\n\npublic class ReadContext {\n"
        "    public boolean expectComma() {\n        return true;\n    }\n}\n",
    }
    main = (
        "package org.x.json;\n\nimport org.x.base.ParserBase;\n\npublic class Utf8Parser extends ParserBase {\n"
        "    int next(int c) {\n        if (_parsingContext." + CURSOR + ") {\n            return c;\n        }\n"
        "        return 0;\n    }\n}\n"
    )
    types = types_at_cursor(engine, tmp_path / "repo", files, "src/org/x/json/Utf8Parser.java", main, "java")
    assert types == ["ReadContext"], types


def test_a_class_with_a_qualified_base_resolves_a_local_name_without_looping(
    engine: RepositoryContext, tmp_path: Path
) -> None:
    # the base named by a dotted path is looked up from its first name, which is not a field of the class: no loop
    files = {"src/org/x/util/Buffer.java": "package org.x.util;\n\npublic class Buffer {\n}\n"}
    main = (
        "package org.x.util;\n\npublic class BufferTest extends junit.framework.TestCase {\n"
        "    public void testReset() {\n        buffer." + CURSOR + "\n    }\n}\n"
    )
    types = types_at_cursor(engine, tmp_path / "repo", files, "src/org/x/util/BufferTest.java", main, "java")
    assert types == ["Buffer"], types  # named after the type, as without the base
