"""Which call sites the own-repository evaluation asks about, and how it samples them.

A call site is ``name(`` where ``name`` is defined exactly once in the whole repository, in a non-test file (test
doubles such as ``*_mocks.go`` count as tests) other than the caller's, whether or not the caller imports it: the
evaluation should measure what a user meets, not what import resolution already handles. Each site has a call form:
``bare`` (``name(``, ``new Name(``) or ``qualified`` (``pkg.name(``, ``obj.method(``, ``Type::name(``, ``p->f(``).
Each sampled site is asked about at two cursor positions: right after ``name(`` and right before the name (there the
model must pick the name itself); the rest of the line is masked at both. A third, ``typing_name``, puts the cursor
after the name's first characters (what a user has typed when most completion requests arrive); it is measured for
recall (runs without a model).

Names that are also builtins or methods of the language's standard types (``get``, ``append``, ``toString``) are
left out: ``d.get(`` is almost never a call of the repository's one ``get``; so are names and qualifiers the file
imports from the standard library or (JavaScript, Go) from a package.
"""

from __future__ import annotations

import builtins
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..index.repo_index import FileRecord, RepoIndex
from ..resolution.manifests import GoModule, manifest_of
from ..syntax.languages import language_named, parser_for
from ..syntax.symbols import identifiers_between, split_lines
from ..uris import key_to_uri

FORMS = ("bare", "qualified")
POSITIONS = ("after_call", "before_name", "typing_name")
MODEL_POSITIONS = ("after_call", "before_name")  # the model-based part's default: each case costs a cold prompt
TYPED_CHARS = 3  # of the name, at ``typing_name`` (fewer for short names: one is always left to complete)
MAX_PER_FILE = 2  # per form: spread the sample over the repository
MAX_PER_CALLEE = 2  # per form: one much-called helper must not fill a cell

_QUALIFIERS = (b"?.", b".", b"::", b"->")
_QUALIFIER_WORD = re.compile(rb"([A-Za-z_$][\w$]*)\s*(?:\?\.|\.|::|->)\s*$")
_TEST_DIRS = frozenset(
    {"test", "tests", "testing", "__tests__", "spec", "specs", "testdata", "test_data", "mocks", "__mocks__", "fakes"}
)
# Test doubles (gcs_mocks.go, mock_client.go): a call ``obj.Delete(`` through the interface they implement is not a
# call of the double's one ``Delete``.
_TEST_DOUBLE = re.compile(r"(^|[_.-])(mocks?|fakes?)[_.-]")
_TEST_FILE = re.compile(r"(^test_.*\.py$|_test\.(py|go)$|^conftest\.py$|\.(test|spec)\.[cm]?[jt]sx?$|Tests?\.java$)")
# fmt: off
_NOT_CALL_LINES = ("def ", "async def ", "class ", "function ", "func ", "fn ", "pub fn ", "import ", "from ",
                   "#", "//", "/*", "*", "use ", "package ")
# fmt: on

_PY_TYPES = (str, bytes, list, dict, set, tuple, int, float, object, type, frozenset, BaseException)
# fmt: off
_COMMON = {
    "python": set(dir(builtins)).union(*(dir(t) for t in _PY_TYPES)),
    "javascript": {
        "push", "pop", "shift", "unshift", "slice", "splice", "concat", "join", "map", "filter", "reduce", "forEach",
        "find", "findIndex", "includes", "indexOf", "some", "every", "sort", "keys", "values", "entries", "has",
        "get", "set", "delete", "add", "clear", "call", "apply", "bind", "then", "catch", "finally", "toString",
        "valueOf", "hasOwnProperty", "split", "replace", "trim", "toLowerCase", "toUpperCase", "startsWith",
        "endsWith", "match", "test", "exec", "parse", "stringify", "assign", "freeze", "create", "from", "isArray",
        "resolve", "reject", "all", "race", "log", "warn", "error", "next", "return", "throw", "emit", "on",
        "Error", "TypeError", "Symbol", "Promise", "Map", "Set", "Object", "Array", "String", "Number", "Boolean"},
    "go": {"append", "len", "cap", "make", "new", "delete", "copy", "panic", "recover", "print", "println", "close",
           "min", "max", "clear", "Error", "String", "Len", "Less", "Swap", "Write", "Read", "Close", "Lock",
           "Unlock", "RLock", "RUnlock", "Add", "Done", "Wait", "Get", "Set", "Load", "Store"},
    "rust": {"new", "default", "clone", "into", "from", "unwrap", "expect", "map", "iter", "into_iter", "collect",
             "push", "pop", "len", "is_empty", "get", "insert", "remove", "as_ref", "as_str", "to_string", "to_owned",
             "fmt", "write", "next", "ok", "err", "Some", "Ok", "Err", "Box", "Vec", "with_capacity", "eq", "cmp",
             "partial_cmp", "hash", "drop", "deref", "borrow", "extend", "contains", "serialize", "deserialize"},
    "java": {"equals", "hashCode", "toString", "get", "set", "add", "put", "remove", "size", "isEmpty", "contains",
             "append", "length", "charAt", "substring", "indexOf", "valueOf", "format", "iterator", "hasNext", "next",
             "clone", "close", "println", "print", "getClass", "compareTo", "stream", "of", "asList", "apply",
             "accept", "test", "run", "call", "clear", "trim", "split", "startsWith", "endsWith", "replace"},
}
# fmt: on
_COMMON["typescript"] = _COMMON["tsx"] = _COMMON["javascript"]


@dataclass
class Case:
    path: str  # relative to the workspace folder
    line: int
    column: int  # of the cursor
    form: str  # one of FORMS
    position: str  # one of POSITIONS
    callee: str
    definitions: list[tuple[str, int]]  # (uri, start line) of the callee's one definition
    language: str = ""
    text: str = field(repr=False, default="")  # the document as the user has it: the line typed up to the cursor
    offset: int = 0  # the cursor in ``text``
    expected: str = ""  # the masked rest of the line, stripped
    language_id: str = ""
    uri: str = ""
    key: str = ""
    definition_path: str = ""

    @property
    def prefix(self) -> str:
        return self.text[: self.offset]

    @property
    def suffix(self) -> str:
        return self.text[self.offset :]


@dataclass(frozen=True)
class CallSite:
    record: FileRecord
    line: int
    name_byte: int  # where the name starts in the file (bytes)
    call_byte: int  # just after the '('
    name: str
    form: str
    definition: tuple[FileRecord, int]  # the defining file and the definition's start line


def is_test_path(rel: str) -> bool:
    parts = rel.split("/")
    return bool(_TEST_FILE.search(parts[-1]) or _TEST_DOUBLE.search(parts[-1].lower())) or any(
        part.lower() in _TEST_DIRS for part in parts[:-1]
    )


def call_form(source: bytes, name_byte: int) -> str:
    """``qualified`` when a member/path operator comes right before the name (spaces aside), else ``bare``."""
    before = source[max(0, name_byte - 64) : name_byte].rstrip()
    return "qualified" if before.endswith(_QUALIFIERS) else "bare"


def _qualifier(source: bytes, name_byte: int) -> str:
    match = _QUALIFIER_WORD.search(source[max(0, name_byte - 64) : name_byte])
    return match.group(1).decode("utf-8", "replace") if match else ""


def is_external_module(language: str, module: str, go_module: GoModule | None = None) -> bool:
    """An import of the standard library or (JavaScript, Go) of a package: names it binds are not the repository's.
    ``go_module``: (Go) the repository's module, whose paths and local replacements are its own."""
    if language == "go":
        if go_module is not None:
            return go_module.local_folder(module) is None
        return "." not in module.split("/")[0]  # the standard library's paths have no domain: fmt, io/ioutil
    if language == "python":
        return module.split(".")[0] in sys.stdlib_module_names
    if language == "rust":
        return module.startswith(("std::", "core::", "alloc::"))
    if language == "java":
        return module.startswith(("java.", "javax."))
    if language in ("javascript", "typescript", "tsx"):
        return not module.startswith((".", "/"))
    return False


def _external_names(index: RepoIndex, record: FileRecord) -> set[str]:
    """Names the file binds by importing them from outside the repository (``use std::process::exit``,
    ``import "io/ioutil"``)."""
    module = manifest_of(index, record.folder, record.rel, "go") if record.language == "go" else None
    go_module = module if isinstance(module, GoModule) else None
    return {
        local
        for imp in record.imports
        if is_external_module(record.language, imp.module, go_module)
        for local, _ in imp.names
    }


def unique_definitions(index: RepoIndex) -> dict[str, tuple[FileRecord, int]]:
    """name -> (file, start line) for names defined exactly once in the repository, in a non-test file."""
    out: dict[str, tuple[FileRecord, int]] = {}
    with index.lock:
        for name, entries in index.symbols.items():
            if len(entries) != 1:
                continue
            key, i = entries[0]
            record = index.files.get(key)
            if record is not None and i < len(record.definitions) and not is_test_path(record.rel):
                out[name] = (record, record.definitions[i].start_line)
    return out


def call_sites(index: RepoIndex, record: FileRecord, unique: dict[str, tuple[FileRecord, int]]) -> list[CallSite]:
    spec = language_named(record.language)
    try:
        text = Path(record.key).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    source = text.encode("utf-8", "surrogatepass")
    tree = parser_for(spec).parse(source)
    lines = split_lines(text)
    import_lines = {imp.line for imp in record.imports}
    common = _COMMON.get(spec.name, set())
    external = _external_names(index, record)
    out: list[CallSite] = []
    for name, byte in identifiers_between(spec, tree, 0, len(source)):
        end = byte + len(name.encode())
        if source[end : end + 1] != b"(" or name in common or name in external or len(name) < 3:
            continue
        definition = unique.get(name)
        if definition is None or definition[0].key == record.key:
            continue
        line = source.count(b"\n", 0, byte)
        stripped = lines[line].strip() if line < len(lines) else ""
        if line in import_lines or stripped.startswith(_NOT_CALL_LINES) or stripped.endswith(name + "("):
            continue  # (arguments on the next lines: nothing of the call is left on the line to complete)
        form = call_form(source, byte)
        if form == "qualified" and _qualifier(source, byte) in external:
            continue  # os.path.join(, fs.readFile(: a member of a dependency
        out.append(CallSite(record, line, byte, end + 1, name, form, definition))
    return out


def sample_sites(sites: list[CallSite], per_form: int, rng: random.Random) -> list[CallSite]:
    """Up to ``per_form`` sites of each form, seeded; at most MAX_PER_FILE per file and MAX_PER_CALLEE per callee
    while other sites remain (twice that in small repositories), so no file or helper dominates a cell."""
    chosen: list[CallSite] = []
    for form in FORMS:
        pool = [s for s in sites if s.form == form]
        rng.shuffle(pool)
        picked: list[CallSite] = []
        per_file: dict[str, int] = {}
        per_callee: dict[str, int] = {}
        for relax in (1, 2):  # small repositories: twice the caps rather than a short cell, but no more
            for site in pool:
                if len(picked) >= per_form:
                    break
                if (
                    site not in picked
                    and per_file.get(site.record.key, 0) < MAX_PER_FILE * relax
                    and per_callee.get(site.name, 0) < MAX_PER_CALLEE * relax
                ):
                    picked.append(site)
                    per_file[site.record.key] = per_file.get(site.record.key, 0) + 1
                    per_callee[site.name] = per_callee.get(site.name, 0) + 1
        chosen += sorted(picked, key=lambda s: (s.record.key, s.name_byte))
    return chosen


def typed_chars(name: str) -> int:
    """How much of the name is typed at ``typing_name``."""
    return max(1, min(TYPED_CHARS, len(name) - 1))


def cases_at(site: CallSite, positions: tuple[str, ...] = POSITIONS) -> list[Case]:
    """The site at each cursor position: the line typed up to the cursor, the rest of it masked."""
    record = site.record
    spec = language_named(record.language)
    text = Path(record.key).read_text(encoding="utf-8")
    source = text.encode("utf-8", "surrogatepass")
    line_start = source.rfind(b"\n", 0, site.name_byte) + 1
    line_end = source.find(b"\n", site.name_byte)
    line_end = len(source) if line_end < 0 else line_end
    after = source[line_end:].decode("utf-8", "surrogatepass")
    out = []
    cuts = {
        "after_call": site.call_byte,
        "before_name": site.name_byte,
        "typing_name": site.name_byte + len(site.name[: typed_chars(site.name)].encode("utf-8", "surrogatepass")),
    }
    for position in positions:
        cut = cuts[position]
        typed = source[:cut].decode("utf-8", "surrogatepass")
        masked = source[cut:line_end].decode("utf-8", "surrogatepass")
        column = len(source[line_start:cut].decode("utf-8", "surrogatepass"))
        defining, start = site.definition
        out.append(
            Case(
                record.rel,
                site.line,
                column,
                site.form,
                position,
                site.name,
                [(key_to_uri(defining.key), start)],
                spec.name,
                typed + after,
                len(typed),
                masked.strip(),
                spec.lsp_ids[0],
                key_to_uri(record.key),
                record.key,
                defining.rel,
            )
        )
    return out


def pick_cases(index: RepoIndex, per_form: int, seed: int = 0, positions: tuple[str, ...] = POSITIONS) -> list[Case]:
    """``per_form`` call sites of each form (seeded), each at the given cursor positions."""
    rng = random.Random(seed)
    unique = unique_definitions(index)
    with index.lock:
        records = sorted((r for r in index.files.values() if r.key.startswith("/")), key=lambda r: r.key)
    sites = [site for record in records for site in call_sites(index, record, unique)]
    return [case for site in sample_sites(sites, per_form, rng) for case in cases_at(site, positions)]
