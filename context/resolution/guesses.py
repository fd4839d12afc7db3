"""Guesses at a receiver's type where no declaration says it: a TypeScript type guard the code checked it with,
a type the variable is named after."""

from __future__ import annotations

import re
from typing import Protocol

from ..syntax.symbols import FUNCTION_LIKE
from .receivers import Guess
from .scopes import TYPE_KINDS, FileContext, Found, Scope
from .signatures import signature


class Resolver(Protocol):
    """What the guesses need of ``resolver.Resolver`` (which calls them)."""

    def text_before(self) -> str: ...

    def lookup(self, ctx: FileContext, name: str, kinds: frozenset[str] | set[str] | None = None) -> list[Found]: ...

    def results(self, found: list[Found], confidence: float, depth: int, called: bool) -> list[Scope]: ...


NAMED_AFTER_TYPE = 0.5  # confidence of a variable's type guessed from its name alone
_TYPE_GUARD = re.compile(r"\)\s*:\s*[\w$]+\s+is\s+([A-Za-z_$][\w$.]*)")


def guarded(r: Resolver, ctx: FileContext, name: str) -> list[Guess]:
    """The type a TypeScript type guard narrowed ``name`` to: ``if (isAdministration(adm))`` where the guard is
    declared ``(thing): thing is Administration``; the last such check before the cursor."""
    if ctx.language not in ("typescript", "tsx") or f"({name})" not in r.text_before():
        return []
    for guard in reversed(re.findall(rf"\b([A-Za-z_$][\w$]*)\(\s*{re.escape(name)}\s*\)", r.text_before())):
        for f in r.lookup(ctx, guard, FUNCTION_LIKE)[:1]:
            narrowed = _TYPE_GUARD.search(signature(f.definition))
            if narrowed:
                return [Guess(narrowed.group(1))]
    return []


def named_after(r: Resolver, ctx: FileContext, name: str) -> list[Scope]:
    """An untyped variable named after its type (``|arg| arg.``, ``for node in nodes: node.``): a guess."""
    type_name = "".join(part[:1].upper() + part[1:] for part in name.strip("_$").split("_"))
    if not type_name or type_name == name:
        return []
    return r.results(r.lookup(ctx, type_name, TYPE_KINDS), NAMED_AFTER_TYPE, 0, False)
