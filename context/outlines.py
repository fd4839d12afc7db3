"""Outlines of what a qualifier denotes, for the cursor after ``x.`` / ``pkg.`` / ``Type::``: one line per public
member signature, under the file that defines it, so the model can choose the member.

A type's outline lists its members (declared in its body, or for Go and Rust in the package / its ``impl`` blocks)
under the class header; a small class is shown whole. A module's outline lists its top-level definitions and the
names it re-exports (one snippet per defining file); members matching what is typed, then members the current
file already uses with this qualifier, come first.
"""

from __future__ import annotations

import posixpath
import re
from functools import lru_cache
from typing import Callable

from .gathering import Gathering
from .index import FileRecord
from .ranking import Candidate
from .resolution import PACKAGE_STEMS, Resolver, Scope
from .signatures import signature_line
from .symbols import Definition

MAX_OUTLINE_LINES = 40
MAX_MODULE_FILES = 12
_QUALIFIED = re.compile(r"\b([A-Za-z_$][\w$]*)\s*(?:\.|::)\s*([A-Za-z_$][\w$]*)")
_WORD_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_MEMBER_USE = re.compile(r"(?:\.|::|->)\s*([A-Za-z_$][\w$]*)\s*\(")
_OUTLINE_KINDS = frozenset({"function", "class", "interface", "enum", "type", "constant", "variable", "macro",
                            "module", "namespace"})


def _stem(key: str) -> str:
    return posixpath.splitext(posixpath.basename(key))[0]


def is_public(language: str, name: str) -> bool:
    if language == "go":
        return name[:1].isupper()
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _candidate(g: Gathering, record: FileRecord, start: int, end: int, text: str, score: float,
               excerpt: bool) -> Candidate:
    return Candidate(record.key, g.uri_of(record.key), g.shown_path(record, record.key), start, end, text,
                     "definition", score, excerpt=excerpt)


@lru_cache(maxsize=16384)
def _words(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD_PARTS.findall(name) if len(w) > 2)


def _relevance(g: Gathering, typed: str) -> Callable[[str], tuple[int, ...]]:
    """Sort key for member names: what is typed, then members the file already calls, then members sharing a word
    with the cursor line (``lines = Segment.`` -> ``split_lines``)."""
    text = g.request.text
    called = {m for m in _MEMBER_USE.findall(text)}
    line = g.lines[g.cursor_line] if g.cursor_line < len(g.lines) else ""
    words = set().union(*(_words(w) for w in _IDENT.findall(line))) if line else set()
    return lambda name: (not (typed and name.startswith(typed)), name not in called, not (_words(name) & words))


def _is_attribute(d: Definition) -> bool:
    return d.kind in ("field", "variable", "constant")


def _members_of(r: Resolver, record: FileRecord, cls: Definition) -> list[tuple[FileRecord, Definition]]:
    """The type's public members: in its body, and (Go, Rust) methods declared in the package / next to it."""
    g = r.g
    if record.language == "go":
        files = r.package_files([record.key])
    elif record.language == "rust":
        directory = posixpath.dirname(record.rel)
        files = [record.key] + [other.key for other, d in g.index.definitions_named(cls.name) if d.kind == "impl"
                                and other.folder == record.folder and posixpath.dirname(other.rel) == directory]
    else:
        files = [record.key]
    out: list[tuple[FileRecord, Definition]] = []
    names: set[str] = set()
    for key in dict.fromkeys(files[:MAX_MODULE_FILES * 4]):
        other = g.index.files.get(key)
        for d in other.definitions if other is not None else ():
            if d.parent == cls.name and d.name not in names and is_public(record.language, d.name) \
                    and d.name != cls.name and (record.language in ("go", "rust") or key == record.key):
                names.add(d.name)  # overloads: the first signature stands for all
                out.append((other, d))
    return out


def type_outline(r: Resolver, scope: Scope, score: float, typed: str = "") -> list[Candidate]:
    """The type's public members, one signature line each, under the file that declares them (Go methods and
    Rust impls may be elsewhere); a small class is shown whole instead. The most relevant members first when
    there are more than fit."""
    record, cls = scope.record, scope.definition
    if record is None or cls is None:
        return []
    g = r.g
    members = _members_of(r, record, cls)
    small = cls.summary.count("\n") + 1 == cls.end_line - cls.start_line
    if small:  # shown whole: only members declared outside it remain to list
        members = [(o, d) for o, d in members if o.key != record.key or not cls.start_line <= d.start_line < cls.end_line]
    key = _relevance(g, typed)
    order = {id(m): i for i, m in enumerate(members)}
    chosen = sorted(members, key=lambda m: (*key(m[1].name), _is_attribute(m[1]), order[id(m)]))[:MAX_OUTLINE_LINES]
    by_file: dict[str, list[Definition]] = {record.key: []}
    records = {record.key: record}
    for other, d in chosen:
        by_file.setdefault(other.key, []).append(d)
        records[other.key] = other
    out: list[Candidate] = []
    for rank, (file_key, defs) in enumerate(by_file.items()):
        defs.sort(key=lambda d: d.start_line)
        lines = [signature_line(d) for d in defs]
        if file_key == record.key:
            head = cls.summary if small else signature_line(cls)
            start = cls.start_line
            end = max([cls.end_line] + [d.end_line for d in defs])
            text = "\n".join([head] + ["    " + line for line in lines] if not small else [head] + lines)
            out.append(_candidate(g, record, start, end, text, score, excerpt=small and not defs))
        elif defs:
            out.append(_candidate(g, records[file_key], defs[0].start_line, max(d.end_line for d in defs),
                                  "\n".join(lines), score * 0.97 ** rank, excerpt=False))
    return out


def _qualified_uses(g: Gathering, qualifier: str) -> set[str]:
    """Names the current file already reaches through ``qualifier`` (``qualifier.name`` / ``qualifier::name``)."""
    if not qualifier:
        return set()
    return {member for q, member in _QUALIFIED.findall(g.request.text) if q == qualifier}


def module_outline(r: Resolver, scope: Scope, typed: str, qualifier: str, score: float) -> list[Candidate]:
    """The module's public top-level definitions and re-exported names, grouped by defining file."""
    g = r.g
    entries: list[tuple[FileRecord, Definition]] = []
    seen: set[tuple[str, int]] = set()

    def add(record: FileRecord, d: Definition) -> None:
        if (record.key, d.start_line) not in seen and d.kind in _OUTLINE_KINDS and not d.parent \
                and is_public(record.language, d.name):
            seen.add((record.key, d.start_line))
            entries.append((record, d))

    files = list(scope.files[:MAX_MODULE_FILES])
    surface = {key for key in files if _stem(key) in PACKAGE_STEMS}  # whose imports are re-exports
    i = 0
    while i < len(files) and i < MAX_MODULE_FILES and not (g.expired() and entries):
        key, i = files[i], i + 1
        record = g.index.files.get(key)
        if record is None:
            continue
        for d in record.definitions:
            add(record, d)
        if key not in surface:
            continue  # elsewhere an import is for the module's own use, not part of its surface
        for imp in record.imports:  # re-exports: export * / from .core import Name / pub use
            if not imp.names:
                targets = [k for k in r.module_files(r.context_of(record), imp) if k not in files][:2]
                files += targets
                surface.update(targets)
                continue
            for local, original in imp.names:
                if original in ("*", "default") or not is_public(record.language, local):
                    continue
                for other, d in r.defined_in(r.module_files(r.context_of(record), imp), original, hops=2)[:1]:
                    add(other, d)
    uses = _qualified_uses(g, qualifier)
    order = {id(e): i for i, e in enumerate(entries)}
    entries.sort(key=lambda e: (not (typed and e[1].name.startswith(typed)), e[1].name not in uses, order[id(e)]))
    chosen = entries[:MAX_OUTLINE_LINES]
    by_file: dict[str, list[tuple[FileRecord, Definition]]] = {}
    for record, d in chosen:
        by_file.setdefault(record.key, []).append((record, d))
    out: list[Candidate] = []
    for rank, group in enumerate(by_file.values()):
        group.sort(key=lambda e: e[1].start_line)
        record = group[0][0]
        text = "\n".join(signature_line(d) for _, d in group)
        start, end = group[0][1].start_line, max(d.end_line for _, d in group)
        out.append(_candidate(g, record, start, end, text, score * 0.97 ** rank, excerpt=False))
    return out
