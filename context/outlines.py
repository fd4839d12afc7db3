"""Outlines of what a qualifier denotes, for the cursor after ``x.`` / ``pkg.`` / ``Type::``: one line per public
member signature, under the file that defines it, so the model can choose the member.

A type's outline is its indexed summary (members declared in its body) plus members declared elsewhere: Go
methods in the package's files, Rust ``impl`` blocks. A module's outline lists its top-level definitions and the
names it re-exports (one snippet per defining file); members matching what is typed, then members the current
file already uses with this qualifier, come first.
"""

from __future__ import annotations

import posixpath
import re

from .gathering import Gathering
from .index import FileRecord
from .ranking import Candidate
from .resolution import PACKAGE_STEMS, Resolver, Scope
from .signatures import signature_line
from .symbols import Definition

MAX_OUTLINE_LINES = 40
MAX_MODULE_FILES = 12
_QUALIFIED = re.compile(r"\b([A-Za-z_$][\w$]*)\s*(?:\.|::)\s*([A-Za-z_$][\w$]*)")
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


def type_outline(r: Resolver, scope: Scope, score: float) -> list[Candidate]:
    """The type's summary, then its members declared elsewhere: Go methods (one snippet per file of the package
    that has some), Rust ``impl`` blocks (each its own snippet: an impl's summary outlines its methods)."""
    record, cls = scope.record, scope.definition
    if record is None or cls is None:
        return []
    g = r.g
    small = cls.summary.count("\n") + 1 == cls.end_line - cls.start_line
    out = [_candidate(g, record, cls.start_line, cls.end_line, cls.summary, score, excerpt=small)]
    if record.language not in ("go", "rust"):
        return out
    files = r.package_files([record.key]) if record.language == "go" else [record.key]
    lines = 0
    for key in files[:MAX_MODULE_FILES * 4]:
        other = g.index.files.get(key)
        if other is None or lines >= MAX_OUTLINE_LINES or (g.expired() and len(out) > 1):
            break
        methods: list[Definition] = []
        for d in other.definitions:
            if d is cls or (key == record.key and cls.start_line <= d.start_line < cls.end_line):
                continue
            if record.language == "rust" and d.kind == "impl" and d.name == cls.name:
                out.append(_candidate(g, other, d.start_line, d.end_line, d.summary, score * 0.95,
                                      excerpt=d.summary.count("\n") + 1 == d.end_line - d.start_line))
                lines += d.summary.count("\n") + 1
            elif record.language == "go" and d.parent == cls.name and is_public("go", d.name):
                methods.append(d)
        if methods:
            methods = methods[:MAX_OUTLINE_LINES - lines]
            lines += len(methods)
            out.append(_candidate(g, other, methods[0].start_line, max(d.end_line for d in methods),
                                  "\n".join(signature_line(d) for d in methods), score * 0.95, excerpt=False))
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
