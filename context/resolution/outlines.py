"""Outlines of what a qualifier denotes, for the cursor after ``x.`` / ``pkg.`` / ``Type::``: one line per public
member signature, under the file that defines it, so the model can choose the member.

A type's outline lists its members (declared in its body, or for Go and Rust in the package / its ``impl`` blocks)
under the class header; a small class is shown whole. A module's outline lists its top-level definitions and the
names it re-exports (one snippet per defining file). Members matching what is typed, then members the current
file already calls, then those sharing a word with the cursor line come first; past the signatures that fit, the
names of the other callable members are listed (what an IDE's completion list offers).
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Callable
from functools import lru_cache

from ..gathering import Gathering
from ..index.repo_index import FileRecord
from ..ranking import Candidate
from ..syntax.languages import language_named
from ..syntax.symbols import Definition
from .modules import PACKAGE_STEMS
from .resolver import IMPLICIT_THIS, Resolver
from .scopes import Scope
from .signatures import signature_line

MAX_OUTLINE_LINES = 30  # members listed with their signature
MAX_LISTED_NAMES = 120  # further members listed by name only
MAX_SIGNATURE_CHARS = 1600  # ~400 tokens of signatures, then names up to ~600 tokens in all: the outline must fit
MAX_OUTLINE_CHARS = 2400  # in the default budget next to the other snippets
MAX_MODULE_FILES = 12
LARGE_TYPE_MEMBERS = 90
LARGE_TYPE_SIGNATURE_CHARS = 800
WORD_SHARE = 2.0  # a member sharing a word with the cursor line ranks as if used 4x as much
_WORD_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_PRIVATE_MODIFIER = re.compile(r"(?:@\w+(?:\([^)]*\))?\s+)*(?:\w+\s+)*?private\b")
_MEMBER_USE = re.compile(r"(?:\.|::|->)\s*([A-Za-z_$][\w$]*)\s*\(")
# fmt: off
_OUTLINE_KINDS = frozenset({"function", "class", "interface", "enum", "type", "constant", "variable", "macro",
                            "module", "namespace"})
# fmt: on


def _stem(key: str) -> str:
    return posixpath.splitext(posixpath.basename(key))[0]


def is_public(language: str, name: str, d: Definition | None = None) -> bool:
    if language == "go":
        return name[:1].isupper()
    if language == "rust" and d is not None and _is_attribute(d):
        return signature_line(d).startswith("pub")
    if language in IMPLICIT_THIS:  # access modifiers decide there: Java's ``_name`` is often a protected member
        return True
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _candidate(
    g: Gathering, record: FileRecord, start: int, end: int, text: str, score: float, excerpt: bool
) -> Candidate:
    return Candidate(
        record.key,
        g.uri_of(record.key),
        g.shown_path(record, record.key),
        start,
        end,
        text,
        "definition",
        score,
        excerpt=excerpt,
    )


@lru_cache(maxsize=16384)
def _words(name: str) -> frozenset[str]:
    return frozenset(w.lower() for w in _WORD_PARTS.findall(name) if len(w) > 2)


def _relevance(g: Gathering, typed: str, usage: dict[str, int]) -> Callable[[str], tuple[float, ...]]:
    """Sort key for member names: what is typed, then members the file already calls, then by how much the
    repository uses them (``usage``: chunks mentioning the name), sharing a word with the cursor line (``lines =
    Segment.`` -> ``split_lines``) counting as WORD_SHARE doublings of use."""
    request = g.request
    text = request.text[request.prefix_start : request.suffix_end if request.suffix_end >= 0 else None]
    called = set(_MEMBER_USE.findall(text))  # the visible window: the whole file may be very long
    line = g.lines[g.cursor_line] if g.cursor_line < len(g.lines) else ""
    words = set().union(*(_words(w) for w in _IDENT.findall(line))) if line else set()
    # the words of the members the code around calls: ``get_after_long_help()`` nearby -> ``get_long_help``
    around = set().union(*map(_words, called)) if called else set()
    return lambda name: (
        not (typed and name.startswith(typed)),
        name not in called,
        -(
            math.log2(1 + usage.get(name, 0))
            + (WORD_SHARE if _words(name) & words or len(_words(name) & around) >= 2 else 0)
        ),
    )


def is_private(language: str, d: Definition) -> bool:
    """Hidden from other modules by its name (Go, Python) or from other classes by a ``private`` modifier."""
    return not is_public(language, d.name, d) or has_private_modifier(d)


def has_private_modifier(d: Definition) -> bool:
    """Declared ``private``: not even subclasses see it."""
    return bool(_PRIVATE_MODIFIER.match(signature_line(d)))


def _accessible(g: Gathering, record: FileRecord, d: Definition) -> bool:
    """Whether the cursor's file may use the member: a private one from its own file (``private``) or package
    (Go's lower-case names, Python's ``_names``)."""
    if not is_private(record.language, d) or record.key == g.key:
        return True
    if has_private_modifier(d):
        return False
    return g.in_same_folder(record)


def _is_attribute(d: Definition) -> bool:
    return d.kind in ("field", "variable", "constant")


def members_of(
    r: Resolver, record: FileRecord, cls: Definition, everything: bool = False
) -> list[tuple[FileRecord, Definition]]:
    """The type's members the cursor's file may use (``everything``: private ones too, for ``(x as any).``): in its
    body, and (Go, Rust) methods declared in the package / next to it."""
    g = r.g
    if record.language == "go":
        files = r.package_files([record.key])
    elif record.language == "rust":
        directory = posixpath.dirname(record.rel)
        files = [record.key] + [
            other.key
            for other, d in g.index.definitions_named(cls.name)
            if d.kind == "impl" and other.folder == record.folder and posixpath.dirname(other.rel) == directory
        ]
    else:
        files = [record.key]
    by_name: dict[str, tuple[FileRecord, Definition]] = {}
    for key in dict.fromkeys(files[: MAX_MODULE_FILES * 4]):
        other = g.index.files.get(key)
        if other is None:
            continue
        for d in other.definitions:
            if (
                d.parent != cls.name
                or d.name == cls.name
                or not (everything or _accessible(g, other, d))
                or (record.language not in ("go", "rust") and key != record.key)
            ):
                continue
            # overloads: the first signature stands for all; a method beats a field of the same name (builders)
            if d.name not in by_name or (_is_attribute(by_name[d.name][1]) and not _is_attribute(d)):
                by_name[d.name] = (other, d)
    return list(by_name.values())


def type_outline(
    r: Resolver, scope: Scope, score: float, typed: str = "", bases: list[Scope] | None = None, everything: bool = False
) -> list[Candidate]:
    """The type's public members, one signature line each, under the file that declares them (Go methods and
    Rust impls may be elsewhere); a small class is shown whole instead. The members ``bases`` declare and the type
    does not override are ranked with its own, as an IDE's completion list has them: the most relevant first
    when there are more than fit."""
    record, cls = scope.record, scope.definition
    if record is None or cls is None:
        return []
    g = r.g
    members = members_of(r, record, cls, everything)
    small = cls.summary.count("\n") + 1 == cls.end_line - cls.start_line
    if small:  # shown whole: only members declared outside it remain to list
        members = [
            (o, d) for o, d in members if o.key != record.key or not cls.start_line <= d.start_line < cls.end_line
        ]
    heads = {record.key: (cls.summary if small else signature_line(cls), cls.start_line, cls.end_line, small)}
    names = {d.name for _, d in members_of(r, record, cls, True)}
    for base in bases or []:
        if base.record is None or base.definition is None or base.record.key in heads:
            continue
        inherited = [(o, d) for o, d in members_of(r, base.record, base.definition, everything) if d.name not in names]
        names.update(d.name for _, d in inherited)
        members += inherited
        heads[base.record.key] = (
            signature_line(base.definition),
            base.definition.start_line,
            base.definition.end_line,
            False,
        )
    return listing(g, _ranked(g, members, typed), score, heads, indent="" if small else "    ")


def _ranked(
    g: Gathering, entries: list[tuple[FileRecord, Definition]], typed: str
) -> list[tuple[FileRecord, Definition]]:
    # a large type or module: the members the repository uses most are the likely next ones
    usage = g.index.usage({d.name for _, d in entries}) if len(entries) > MAX_OUTLINE_LINES else {}
    key = _relevance(g, typed, usage)
    order = {id(e): i for i, e in enumerate(entries)}
    return sorted(
        entries,
        key=lambda e: (
            *key(e[1].name)[:2],
            is_private(e[0].language, e[1]),
            *key(e[1].name)[2:],
            _is_attribute(e[1]),
            order[id(e)],
        ),
    )


def listing(
    g: Gathering,
    ranked: list[tuple[FileRecord, Definition]],
    score: float,
    heads: dict[str, tuple[str, int, int, bool]],
    indent: str = "",
    max_signatures: int = MAX_OUTLINE_LINES,
) -> list[Candidate]:
    """One snippet per defining file: its head (a class header), the signatures of the ``max_signatures`` most
    relevant members, then the names of further callable members (what an IDE's completion list would offer)."""
    signatures: list[tuple[FileRecord, Definition]] = []
    size = 0
    # a large type: fewer signatures, so that more of its members are named
    signature_chars = MAX_SIGNATURE_CHARS if len(ranked) <= LARGE_TYPE_MEMBERS else LARGE_TYPE_SIGNATURE_CHARS
    for entry in ranked[:max_signatures]:
        size += len(signature_line(entry[1])) + 5
        if size > signature_chars:
            break
        signatures.append(entry)
    names: list[tuple[FileRecord, Definition]] = []
    for entry in ranked[len(signatures) : len(signatures) + MAX_LISTED_NAMES]:
        size += len(entry[1].name) + 2
        if size > MAX_OUTLINE_CHARS:
            break
        if not _is_attribute(entry[1]):
            names.append(entry)
    files: dict[str, tuple[FileRecord | None, list[Definition], list[Definition]]] = {k: (None, [], []) for k in heads}
    for group, entries in ((1, signatures), (2, names)):
        for owner, d in entries:
            known, sigs, more = files.setdefault(owner.key, (owner, [], []))
            if known is None:
                files[owner.key] = (owner, sigs, more)
            (sigs if group == 1 else more).append(d)
    out: list[Candidate] = []
    for rank, (key, (known, sigs, more)) in enumerate(files.items()):
        record = known or g.index.files.get(key)
        head = heads.get(key)
        if record is None or not (sigs or more or (head and rank == 0)):  # a base type's header alone says little
            continue
        lines = [head[0]] if head else []
        lines += [indent + signature_line(d) for d in sorted(sigs, key=lambda d: d.start_line)]
        if more:
            comment = language_named(record.language).line_comment
            lines.append(
                f"{indent}{comment} also: " + ", ".join(d.name for d in sorted(more, key=lambda d: d.start_line))
            )
        listed = sigs + more
        start = min(([head[1]] if head else []) + [d.start_line for d in listed])
        end = max(([head[2]] if head else []) + [d.end_line for d in listed])
        excerpt = bool(head and head[3] and not listed)
        out.append(_candidate(g, record, start, end, "\n".join(lines), score * 0.97**rank, excerpt=excerpt))
    return out


def module_outline(r: Resolver, scope: Scope, typed: str, score: float) -> list[Candidate]:
    """The module's public top-level definitions and re-exported names, grouped by defining file (the walk kept for
    the index's generation: a package such as ``sympy`` re-exports hundreds of names, each followed to its file)."""
    memo_key = ("module_outline", scope.files)
    entries = r.g.index.cached_lookup(memo_key)
    if entries is None:
        entries, complete = _module_entries(r, scope)
        if complete:
            r.g.index.store_lookup(memo_key, entries)
    return listing(r.g, _ranked(r.g, entries, typed), score, {})  # type: ignore[arg-type]


def _module_entries(r: Resolver, scope: Scope) -> tuple[list[tuple[FileRecord, Definition]], bool]:
    """(the module's entries, whether the walk was complete: one cut short by the deadline is not kept)."""
    g = r.g
    entries: list[tuple[FileRecord, Definition]] = []
    seen: set[tuple[str, int]] = set()

    def add(record: FileRecord, d: Definition) -> None:
        if (
            (record.key, d.start_line) not in seen
            and d.kind in _OUTLINE_KINDS
            and not d.parent
            and is_public(record.language, d.name)
        ):
            seen.add((record.key, d.start_line))
            entries.append((record, d))

    files = list(scope.files[:MAX_MODULE_FILES])
    surface = {key for key in files if _stem(key) in PACKAGE_STEMS}  # whose imports are re-exports
    i = 0
    while i < len(files) and i < MAX_MODULE_FILES:
        if g.expired() and entries:
            return entries, False
        key, i = files[i], i + 1
        record = g.index.files.get(key)
        if record is None:
            continue
        for d in record.definitions:
            add(record, d)
        if key not in surface:
            continue  # elsewhere an import is for the module's own use, not part of its surface
        for imp in record.imports:  # re-exports: export * / from .core import Name / pub use
            if g.expired() and entries:  # a package's hundreds of re-exports: stop adding once the time is up
                return entries, False
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
    return entries, not g.expired()  # a re-export search cut short by the deadline may have missed a name
