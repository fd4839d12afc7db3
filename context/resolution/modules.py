"""Modules as files: the files of a package folder, what a default import binds, whether a file is the module
a name denotes."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from ..index.repo_index import FileRecord, RepoIndex
from ..syntax.symbols import CLASS_LIKE, FUNCTION_LIKE, Definition

PACKAGE_STEMS = frozenset({"__init__", "index", "mod", "lib"})  # a file that stands for its folder


def package_files(index: RepoIndex, keys: list[str]) -> list[str]:
    """The files of the folders ``keys`` are in (a Go package, a Java package): all of them, not a sample."""
    out: list[str] = []
    for key in keys:
        record = index.files.get(key)
        if record is None:
            continue
        directory = posixpath.dirname(record.rel)
        tail = "/".join(directory.lower().split("/")[-8:])
        for other in index.dirs.get(tail, [key]):
            o = index.files.get(other)
            if (
                o is not None
                and o.folder == record.folder
                and posixpath.dirname(o.rel) == directory
                and other not in out
            ):
                out.append(other)
    return out


def default_export(index: RepoIndex, files: list[str], local: str) -> list[tuple[FileRecord, Definition]]:
    """What ``import local from './file'`` binds: the definition named ``local``, else the one named after the
    file, else the file's only top-level function or class."""
    top = [(r, d) for key in files if (r := index.files.get(key)) is not None for d in r.definitions if not d.parent]
    matchers: tuple[Callable[[FileRecord, Definition], bool], ...] = (
        lambda r, d: d.name == local,
        lambda r, d: d.name.lower() == posixpath.splitext(posixpath.basename(r.rel))[0].lower(),
    )
    for wanted in matchers:
        found = [(r, d) for r, d in top if wanted(r, d)]
        if found:
            return found[:1]
    callables = [(r, d) for r, d in top if d.kind in FUNCTION_LIKE or d.kind in CLASS_LIKE or d.kind == "type"]
    return callables if len(callables) == 1 else []


def is_module_named(key: str, name: str) -> bool:
    stem = posixpath.splitext(posixpath.basename(key))[0]
    parent = posixpath.basename(posixpath.dirname(key))
    return stem == name or (stem in ("__init__", "mod", "index") and parent == name)
