"""``completion_shape``: whether to complete and how much, from the text and the syntax tree at the cursor."""

from __future__ import annotations

import pytest

from qwen_lsp.context.documents import OpenDocuments
from qwen_lsp.context.syntax.shape import completion_shape

# "|" marks the cursor.
CASES = [
    ("python", "def f(a):|\n", "block"),
    ("python", "def f(a):\n    |\n", "block"),
    ("python", "if x:\n    y = 1\n|", "block"),
    ("python", "def f(a):\n    |\n    return a\n", "line"),
    ("python", "def f(a):\n    x = 1\n    |\n    return x\n", "line"),
    ("python", "def f(a):\n    x = 1\n    |\n\n\ndef g():\n    pass\n", "block"),
    ("python", "x = foo(a, |)\n", "line"),
    ("python", "x = foo(a,\n    |)\n", "line"),
    ("python", "x = va|\n", "line"),
    ("python", 'x = "abc|"\n', "line"),
    ("python", "x = 1  # a comm|\n", "line"),
    ("python", 'x = """abc"|""\n', "none"),
    ("python", "x = fo|o\n", "none"),
    ("python", "x = |foo\n", "none"),
    ("typescript", "function f() {|}\n", "block"),
    ("typescript", "function f() {\n  |\n}\n", "block"),
    ("typescript", "function f() {\n  const a = 1;\n  |\n  return a;\n}\n", "line"),
    ("typescript", "const x = g(a, |);\n", "line"),
    ("typescript", "const s = `abc ${x}|`;\n", "line"),
    ("typescriptreact", "const a = <div>{ite|ms}</div>;\n", "none"),
    ("go", "func f() {\n\t|\n}\n", "block"),
    ("go", "func f() {\n\tx := 1\n\t|\n}\n", "block"),
    ("go", 'x := fmt.Sprintf("%d", |)\n', "line"),
    ("rust", "fn main() {\n    let v = vec![1, |];\n}\n", "line"),
    ("java", "class A {\n  void m() {\n    |\n  }\n}\n", "block"),
    ("c", "int main(void) {|}\n", "block"),
    ("csharp", "class A { void M() { Run(|); } }\n", "line"),
    ("ruby", "def foo\n  |\nend\n", "block"),
    ("ruby", "items.each do |x|\n  |\nend\n", "block"),
    ("plaintext", "some words|", "line"),
    ("plaintext", "|", "block"),
]


@pytest.mark.parametrize(("language", "marked", "expected"), CASES)
def test_shape(language: str, marked: str, expected: str) -> None:
    offset = marked.rindex("|") if language == "ruby" and "do |x|" in marked else marked.index("|")
    text = marked[:offset] + marked[offset + 1 :]
    shape = completion_shape(text, offset, language)
    assert shape.kind == expected, shape.reason


@pytest.mark.parametrize(("language", "marked", "expected"), CASES)
def test_shape_from_the_open_documents_live_tree(language: str, marked: str, expected: str) -> None:
    """An open document answers from its live tree: for its own text, and for a variant of it (the text before the
    last keystroke, a suggestion accepted in the background) re-parsed from that tree, leaving the document as is."""
    offset = marked.rindex("|") if language == "ruby" and "do |x|" in marked else marked.index("|")
    text = marked[:offset] + marked[offset + 1 :]
    documents = OpenDocuments()
    uri = "file:///work/doc.txt"
    earlier = text[: offset // 2] + text[offset:]  # as it was before typing half the cursor's line
    documents.change(uri, earlier, 1, language)
    documents.completion_shape(uri, earlier, offset // 2, language)  # the live tree exists
    assert documents.completion_shape(uri, text, offset, language).kind == expected  # a variant
    documents.change(uri, text, 2, language)
    assert documents.completion_shape(uri, text, offset, language).kind == expected  # its own text
    assert documents.completion_shape(uri, text + "\n\n", offset, language).kind == expected
    assert documents.get("/work/doc.txt").text == text


def test_consecutive_keystrokes_reuse_the_live_tree() -> None:
    documents = OpenDocuments()
    text = "def f(a):\n    return g(a, )\n"
    for i in range(5):
        typed = text.replace("g(a, )", f"g(a, {'x' * i})")
        documents.change("file:///a.py", typed, i, "python")
        assert documents.completion_shape("file:///a.py", typed, typed.index(")"), "python").kind == "line"
    # a document that is not open gets its own answer
    assert documents.completion_shape("file:///b.py", "class A:\n", len("class A:"), "python").kind == "block"


def test_reason_is_given() -> None:
    shape = completion_shape("x = fo" + "o\n", 6, "python")
    assert shape.reason == "mid-identifier"
