"""What names resolve to: a definition found (with a confidence), a scope (a module or a type), and the file a
name is looked up from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

from ..index.repo_index import FileRecord
from ..syntax.symbols import CLASS_LIKE, Definition
from .imports import Import

TYPE_KINDS = CLASS_LIKE | {"type"}


class Found(NamedTuple):
    record: FileRecord
    definition: Definition
    confidence: float


@dataclass(frozen=True)
class Scope:
    kind: str  # "module" or "type"
    confidence: float
    files: tuple[str, ...] = ()  # module: its files
    path: str = ""  # module: the import path as written ("a.b", "crate::a"), to reach submodules
    record: FileRecord | None = None  # type: where it is defined
    definition: Definition | None = None

    def scaled(self, factor: float) -> Scope:
        return replace(self, confidence=self.confidence * factor)


@dataclass(frozen=True)
class FileContext:
    """The file a name is looked up from: its imports decide what the name means."""

    key: str
    record: FileRecord | None
    imports: tuple[Import, ...]
    language: str
    dialect: str
    folder: str
    rel: str


MAX_SCOPES = 4


def distinct(scopes: list[Scope], limit: int = MAX_SCOPES) -> list[Scope]:
    """The first of each scope reached several ways (a type found by two guesses), at most ``limit``."""
    out: list[Scope] = []
    seen: set[tuple[str, tuple[str, ...], str, int]] = set()
    for s in scopes:
        ident = (s.kind, s.files, s.record.key if s.record else "", s.definition.start_line if s.definition else -1)
        if ident not in seen:
            seen.add(ident)
            out.append(s)
    return out[:limit]
