"""Checks that a class implements the whole of a ``typing.Protocol``: every member the protocol declares (methods,
properties and annotated attributes), coroutines where the protocol has coroutines, and every parameter the
protocol's methods take. The server calls any member on whatever implementation it was given, so a member that is
missing would fail only when that path runs."""

from __future__ import annotations

import inspect
import re
from typing import Any


def protocol_members(protocol: type) -> set[str]:
    declared = {name for name in vars(protocol) if not name.startswith("_")}
    return declared | set(getattr(protocol, "__annotations__", {}))


def _assigned_in_init(cls: type, name: str) -> bool:
    """An attribute the constructor sets (``self.name = ...``) exists only on instances."""
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if inspect.isfunction(init) and re.search(rf"self\.{name}\s*(:[^=\n]*)?=", inspect.getsource(init)):
            return True
    return False


def interface_problems(cls: type, protocol: type) -> list[str]:
    """What ``cls`` lacks of ``protocol`` (empty when it implements all of it)."""
    problems = []
    for name in sorted(protocol_members(protocol)):
        wanted: Any = vars(protocol).get(name)
        if not hasattr(cls, name) and not _assigned_in_init(cls, name):
            problems.append(f"lacks {name}")
            continue
        if not callable(wanted):
            continue
        have = getattr(cls, name)
        if inspect.iscoroutinefunction(have) != inspect.iscoroutinefunction(wanted):
            problems.append(f"{name}: a coroutine in one and not the other")
        params = inspect.signature(have).parameters.values()
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
            continue
        taken = {p.name for p in params}
        lacking = [p for p in list(inspect.signature(wanted).parameters)[1:] if p not in taken]
        if lacking:
            problems.append(f"{name} does not take {lacking}")
    return problems
