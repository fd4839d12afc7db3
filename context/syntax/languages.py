"""The languages the context engine understands: file extensions, LSP language ids, grammars and compiled queries.

Grammars come from ``tree-sitter-language-pack`` 0.13 (bundled in its wheel: nothing is downloaded at run time).
Parsers are not thread-safe, so each thread gets its own; compiled queries are shared.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

from tree_sitter import Language, Parser, Query

from . import queries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # id used throughout the engine (and the grammar name, see ``grammar``)
    extensions: tuple[str, ...]
    lsp_ids: tuple[str, ...]
    definitions: str
    line_comment: str = "//"
    indent_blocks: bool = False  # blocks are made by indentation (Python): a block opens after ':'
    block_openers: tuple[str, ...] = ("{",)
    grammar: str = ""  # grammar name in the language pack when it differs from ``name``
    imports_as: str = ""  # import parser to use when it differs from ``name``

    @property
    def grammar_name(self) -> str:
        return self.grammar or self.name

    @property
    def import_dialect(self) -> str:
        return self.imports_as or self.name


LANGUAGES: tuple[LanguageSpec, ...] = (
    LanguageSpec("python", (".py", ".pyi", ".pyw"), ("python",), queries.PYTHON, "#", True, (":",)),
    LanguageSpec(
        "javascript",
        (".js", ".mjs", ".cjs", ".jsx"),
        ("javascript", "javascriptreact"),
        queries.JAVASCRIPT,
        block_openers=("{", "=>"),
    ),
    LanguageSpec(
        "typescript",
        (".ts", ".mts", ".cts"),
        ("typescript",),
        queries.TYPESCRIPT,
        block_openers=("{", "=>"),
        imports_as="javascript",
    ),
    LanguageSpec(
        "tsx", (".tsx",), ("typescriptreact",), queries.TYPESCRIPT, block_openers=("{", "=>"), imports_as="javascript"
    ),
    LanguageSpec("go", (".go",), ("go",), queries.GO),
    LanguageSpec("rust", (".rs",), ("rust",), queries.RUST),
    LanguageSpec("java", (".java",), ("java",), queries.JAVA),
    LanguageSpec("c", (".c",), ("c",), queries.C),
    # Headers parse as C++: the grammar is a superset that also handles C headers.
    LanguageSpec(
        "cpp",
        (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h", ".ipp"),
        ("cpp", "cuda-cpp"),
        queries.CPP,
        imports_as="c",
    ),
    LanguageSpec("csharp", (".cs",), ("csharp",), queries.CSHARP),
    LanguageSpec("ruby", (".rb", ".rake"), ("ruby",), queries.RUBY, "#", block_openers=("do", "|", "then")),
    LanguageSpec("php", (".php",), ("php",), queries.PHP),
    LanguageSpec("kotlin", (".kt", ".kts"), ("kotlin",), queries.KOTLIN),
    LanguageSpec("scala", (".scala", ".sc"), ("scala",), queries.SCALA, block_openers=("{", "=")),
    LanguageSpec("lua", (".lua",), ("lua",), queries.LUA, "--", block_openers=("then", "do", ")")),
    LanguageSpec("swift", (".swift",), ("swift",), queries.SWIFT),
    LanguageSpec(
        "bash", (".sh", ".bash"), ("shellscript", "bash", "sh"), queries.BASH, "#", block_openers=("{", "then", "do")
    ),
)

_BY_EXTENSION = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
# The LSP language id of a file named by its extension, where it is not its language's first id, and of files the
# engine has no grammar for (an editor sends the id itself; this is for a file named on the command line).
_OTHER_LSP_IDS = {".jsx": "javascriptreact", ".md": "markdown", ".json": "json"}
_BY_LSP_ID = {lsp_id: spec for spec in LANGUAGES for lsp_id in spec.lsp_ids}
_BY_NAME = {spec.name: spec for spec in LANGUAGES}

# Node types that name things, in any grammar; each language keeps the ones its grammar has.
# fmt: off
_IDENTIFIER_KINDS = ("identifier", "type_identifier", "field_identifier", "property_identifier",
                     "shorthand_property_identifier", "package_identifier", "namespace_identifier", "constant",
                     "simple_identifier", "name", "word")
# fmt: on
_STRING_OR_COMMENT = re.compile(r"(^|_)(string|comment|heredoc|regex)(_|$)|char_literal|rune_literal")


def language_for_path(path: str | PurePath) -> LanguageSpec | None:
    return _BY_EXTENSION.get(os.path.splitext(str(path))[1].lower())


def lsp_language_id(path: str | PurePath) -> str:
    """The LSP ``languageId`` an editor gives a file with this name ("plaintext" when nothing is known of it)."""
    extension = os.path.splitext(str(path))[1].lower()
    spec = _BY_EXTENSION.get(extension)
    return _OTHER_LSP_IDS.get(extension) or (spec.lsp_ids[0] if spec is not None else "plaintext")


def language_for_id(language_id: str | None, path: str | PurePath = "") -> LanguageSpec | None:
    """The language for an LSP ``languageId``, falling back to the file extension."""
    spec = _BY_LSP_ID.get(language_id or "") or _BY_NAME.get(language_id or "")
    if spec is not None and spec.name == "typescript" and str(path).endswith(".tsx"):
        return _BY_NAME["tsx"]
    return spec or (language_for_path(path) if path else None)


def language_named(name: str) -> LanguageSpec:
    return _BY_NAME[name]


def is_string_or_comment(node_type: str) -> bool:
    return _STRING_OR_COMMENT.search(node_type) is not None


@cache
def grammar(spec: LanguageSpec) -> Language:
    from tree_sitter_language_pack import get_language

    return get_language(spec.grammar_name)  # type: ignore[arg-type]


_local = threading.local()


def parser_for(spec: LanguageSpec) -> Parser:
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(spec.name)
    if parser is None:
        parser = parsers[spec.name] = Parser(grammar(spec))
    return parser


@cache
def definitions_query(spec: LanguageSpec) -> Query:
    return Query(grammar(spec), spec.definitions)


@cache
def imports_query(spec: LanguageSpec) -> Query | None:
    source = queries.IMPORTS.get(spec.name) or queries.IMPORTS.get(spec.import_dialect)
    return Query(grammar(spec), source) if source else None


@cache
def identifier_kinds(spec: LanguageSpec) -> frozenset[str]:
    language = grammar(spec)
    return frozenset(kind for kind in _IDENTIFIER_KINDS if language.id_for_node_kind(kind, True))


@cache
def identifiers_query(spec: LanguageSpec) -> Query:
    alternatives = " ".join(f"({kind})" for kind in sorted(identifier_kinds(spec)))
    return Query(grammar(spec), f"[{alternatives}] @id")


def warm_up_queries(specs: set[LanguageSpec] | list[LanguageSpec]) -> None:
    """Compile the queries of these languages now, so the first request in each language does not pay for it."""
    for spec in specs:
        try:
            definitions_query(spec)
            imports_query(spec)
            identifiers_query(spec)
        except Exception:  # noqa: BLE001 - a grammar that fails here fails (and is logged) where it is used
            log.debug("could not compile the queries of %s", spec.name, exc_info=True)
