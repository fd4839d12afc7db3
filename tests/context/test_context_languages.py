"""Per-language extraction of definitions and imports from real grammars (tree-sitter-language-pack)."""

from __future__ import annotations

import textwrap

import pytest

from qwen_lsp.context.syntax.languages import LANGUAGES, language_for_id, language_for_path, lsp_language_id, parser_for
from qwen_lsp.context.syntax.symbols import FileSymbols, extract_symbols, identifiers_between, split_lines


def extract(language: str, source: str) -> FileSymbols:
    spec = language_for_id(language)
    assert spec is not None
    text = textwrap.dedent(source)
    tree = parser_for(spec).parse(text.encode())
    return extract_symbols(spec, tree, split_lines(text))


def defs(symbols: FileSymbols) -> set[tuple[str, str, str]]:
    return {(d.name, d.kind, d.parent) for d in symbols.definitions}


def modules(symbols: FileSymbols) -> list[str]:
    return [i.module for i in symbols.imports]


CASES = {
    "python": (
        """
        import os.path as osp
        from .models import User as U, Group
        MAX_SIZE = 3
        def helper(a: int) -> int:
            '''Doc.'''
            def inner():
                pass
            return a
        @decorated
        class Service(Base):
            retries = 2
            def run(self, x):
                return x
        """,
        {
            ("MAX_SIZE", "variable", ""),
            ("helper", "function", ""),
            ("Service", "class", ""),
            ("retries", "field", "Service"),
            ("run", "method", "Service"),
        },
        ["os.path", ".models"],
    ),
    "javascript": (
        """
        import def, { a as b, c } from "./mod";
        const req = require("./req");
        export function helper(a) { return a; }
        export const arrow = (a) => a * 2;
        class Service extends Base { run(x) { return x; } }
        """,
        {
            ("req", "variable", ""),
            ("helper", "function", ""),
            ("arrow", "function", ""),
            ("Service", "class", ""),
            ("run", "method", "Service"),
        },
        ["./mod", "./req"],
    ),
    "typescript": (
        """
        import type { T } from "pkg";
        export interface Shape { area(): number }
        export type Alias = string | number;
        export enum Color { Red }
        export abstract class Base { abstract size(): number; protected count = 0; }
        export function make(a: number): Shape { return null!; }
        """,
        {
            ("Shape", "interface", ""),
            ("area", "method", "Shape"),
            ("Alias", "type", ""),
            ("Color", "enum", ""),
            ("Base", "class", ""),
            ("size", "method", "Base"),
            ("count", "field", "Base"),
            ("make", "function", ""),
        },
        ["pkg"],
    ),
    "typescriptreact": (
        """
        import React from "react";
        export function Button(props: Props) { return <button>{props.label}</button>; }
        """,
        {("Button", "function", "")},
        ["react"],
    ),
    "go": (
        """
        package main
        import (
            "fmt"
            str "strings"
        )
        func Add(a, b int) int { return a + b }
        type Point struct { X int }
        type Shape interface { Area() float64 }
        func (p *Point) Move(dx int) { p.X += dx }
        const Pi = 3.14
        """,
        {
            ("Add", "function", ""),
            ("Point", "class", ""),
            ("X", "field", "Point"),
            ("Shape", "interface", ""),
            ("Area", "method", "Shape"),
            ("Move", "method", "Point"),
            ("Pi", "constant", ""),
        },
        ["fmt", "strings"],
    ),
    "rust": (
        """
        use std::collections::{HashMap, HashSet as HS};
        use crate::model::User;
        mod util;
        pub fn add(a: i32) -> i32 { a }
        pub struct P { x: i32 }
        pub trait T { fn m(&self) -> i32; }
        impl T for P { fn m(&self) -> i32 { 1 } }
        const MAX: i32 = 3;
        """,
        {
            ("add", "function", ""),
            ("P", "class", ""),
            ("x", "field", "P"),
            ("T", "interface", ""),
            ("m", "method", "T"),
            ("P", "impl", ""),
            ("m", "method", "P"),
            ("MAX", "constant", ""),
        },
        ["std::collections", "crate::model", "self::util"],
    ),
    "java": (
        """
        package a.b;
        import java.util.List;
        public class A extends B {
          public static final int MAX = 3;
          public A(int x) {}
          public int m(String s) { return 1; }
        }
        interface I { void run(); }
        """,
        {
            ("A", "class", ""),
            ("MAX", "field", "A"),
            ("A", "method", "A"),
            ("m", "method", "A"),
            ("I", "interface", ""),
            ("run", "method", "I"),
        },
        ["java.util.List"],
    ),
    "c": (
        """
        #include "util.h"
        #define LIMIT 3
        int add(int a, int b) { return a + b; }
        static char *name(void);
        struct point { int x; };
        typedef struct point point_t;
        """,
        {
            ("LIMIT", "constant", ""),
            ("add", "function", ""),
            ("name", "function", ""),
            ("point", "class", ""),
            ("point_t", "type", ""),
        },
        ["util.h"],
    ),
    "cpp": (
        """
        #include "util.hpp"
        namespace ns {
        class Foo : public Bar {
         public:
          Foo(int x);
          int get() const { return x_; }
         private:
          int x_;
        };
        int Foo::compute(int y) { return y; }
        }
        """,
        {
            ("ns", "namespace", ""),
            ("Foo", "class", ""),
            ("Foo", "method", "Foo"),
            ("get", "method", "Foo"),
            ("x_", "field", "Foo"),
            ("compute", "method", "Foo"),
        },
        ["util.hpp"],
    ),
    "csharp": (
        """
        using System.Text;
        namespace App.Core {
          public class Svc {
            public int Prop { get; set; }
            public int Run(string s) { return 1; }
          }
          interface IBase { void Run(); }
        }
        """,
        {
            ("Core", "namespace", ""),
            ("Svc", "class", ""),
            ("Prop", "field", "Svc"),
            ("Run", "method", "Svc"),
            ("IBase", "interface", ""),
            ("Run", "method", "IBase"),
        },
        ["System.Text"],
    ),
    "ruby": (
        """
        require "json"
        require_relative "lib/util"
        module Tools
          LIMIT = 3
          class Runner < Base
            def run(a)
              a
            end
          end
        end
        """,
        {
            ("Tools", "module", ""),
            ("LIMIT", "constant", "Tools"),
            ("Runner", "class", "Tools"),
            ("run", "method", "Runner"),
        },
        ["json", "./lib/util"],
    ),
    "php": (
        """
        <?php
        use App\\Models\\User;
        function top($x) { return $x; }
        class C { public function m($a) {} }
        """,
        {("top", "function", ""), ("C", "class", ""), ("m", "method", "C")},
        ["App\\Models\\User"],
    ),
    "lua": (
        """
        local util = require("mod.util")
        local function f(a) return a end
        function M.g(a) end
        """,
        {("f", "function", ""), ("g", "function", "")},
        ["mod.util"],
    ),
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_definitions_and_imports(language: str) -> None:
    source, expected_defs, expected_modules = CASES[language]
    symbols = extract(language, source)
    assert defs(symbols) == expected_defs
    assert modules(symbols) == expected_modules


def test_every_language_query_compiles_and_runs() -> None:
    for spec in LANGUAGES:
        tree = parser_for(spec).parse(b"x")
        extract_symbols(spec, tree, ["x"])


def test_python_spans_and_summaries() -> None:
    symbols = extract(
        "python",
        """
        import os


        def helper(a, b):
            '''Add two numbers.'''
            total = a + b
            return total
        """
        + "".join(f"        # line {i}\n" for i in range(20))
        + "            return 0\n",
    )
    helper = next(d for d in symbols.definitions if d.name == "helper")
    assert (helper.start_line, helper.header_end) == (4, 6)  # signature plus docstring
    # a long function is summarised as its signature, docstring and an ellipsis
    assert helper.summary.splitlines() == ["def helper(a, b):", "    '''Add two numbers.'''", "    ..."]


def test_doc_comments_belong_to_the_definition() -> None:
    symbols = extract(
        "go",
        """
        package p

        // Add adds two numbers.
        // It never fails.
        func Add(a, b int) int { return a + b }
        """,
    )
    add = symbols.definitions[0]
    assert add.start_line == 3 and add.summary.startswith("// Add adds two numbers.")


def test_class_outline_lists_member_signatures() -> None:
    body = "".join(f"                x{i} = {i}\n" for i in range(20))
    symbols = extract(
        "python",
        f"""
        class Store:
            '''Keeps things.'''
            def get(self, key):
{body}
                return None
            def put(self, key, value):
                pass
        """,
    )
    store = next(d for d in symbols.definitions if d.name == "Store")
    lines = store.summary.splitlines()
    assert lines[:2] == ["class Store:", "    '''Keeps things.'''"]
    assert "    def get(self, key): ..." in lines and "    def put(self, key, value): ..." in lines
    assert not any("x3 = 3" in line for line in lines)


def test_locals_inside_functions_are_not_definitions() -> None:
    symbols = extract(
        "typescript",
        """
        export function outer() {
          const inner = () => 1;
          function nested() {}
          return inner() + nested();
        }
        """,
    )
    assert defs(symbols) == {("outer", "function", "")}


def test_identifiers_between() -> None:
    spec = language_for_id("python")
    assert spec is not None
    text = "alpha = 1\nbeta = gamma(alpha)\ndelta = 2\n"
    tree = parser_for(spec).parse(text.encode())
    start = text.index("beta")
    names = [name for name, _ in identifiers_between(spec, tree, start, text.index("delta"))]
    assert names == ["beta", "gamma", "alpha"]


def test_language_lookup() -> None:
    assert language_for_path("a/b/c.tsx").name == "tsx"  # type: ignore[union-attr]
    assert language_for_id("typescript", "x.tsx").name == "tsx"  # type: ignore[union-attr]
    assert language_for_id("javascriptreact").name == "javascript"  # type: ignore[union-attr]
    assert language_for_path("README.md") is None
    assert language_for_id("plaintext") is None


def test_class_outline_lists_an_overloaded_method_once() -> None:
    overloads = "".join(f"  pipe(op{i}: number): number;\n" for i in range(5))
    body = "".join(f"    const x{i} = {i};\n" for i in range(20))
    symbols = extract(
        "typescript",
        "export class Stream {\n"
        + overloads
        + "  pipe(...ops: number[]): number {\n"
        + body
        + "    return 0;\n  }\n}\n",
    )
    stream = next(d for d in symbols.definitions if d.name == "Stream")
    assert stream.summary.count("pipe(") == 1


@pytest.mark.parametrize(
    ("name", "language_id"),
    [
        ("app.py", "python"),
        ("stubs.pyi", "python"),
        ("Main.java", "java"),
        ("view.jsx", "javascriptreact"),
        ("view.tsx", "typescriptreact"),
        ("lib.ts", "typescript"),
        ("run.sh", "shellscript"),
        ("util.h", "cpp"),  # headers parse as C++ (as VS Code names them)
        ("util.hpp", "cpp"),
        ("README.MD", "markdown"),
        ("package.json", "json"),
        ("notes.txt", "plaintext"),
        ("Makefile", "plaintext"),
    ],
)
def test_lsp_language_ids_by_file_name(name: str, language_id: str) -> None:
    """What an editor would call the file (for a file named on the command line): one table with the engine's."""
    assert lsp_language_id(name) == language_id
    spec = language_for_path(name)
    assert spec is None or language_for_id(language_id, name) == spec  # the engine reads the id back as the same
