"""Reading the parameters of custom notifications and command arguments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def field(params: Any, name: str, default: Any = None) -> Any:
    """Custom notifications arrive as plain objects or dicts depending on the client library."""
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)


def plain(value: Any, max_items: int, depth: int = 0) -> Any:
    """Custom params as JSON-like dicts and lists, whatever object type the RPC layer made of them; lists cut at
    ``max_items`` (enough to see that a list is too long), nesting at 8 levels."""
    if depth > 8:
        return None
    if isinstance(value, Mapping):
        return {str(k): plain(v, max_items, depth + 1) for k, v in value.items()}
    if hasattr(value, "_asdict"):
        return plain(value._asdict(), max_items, depth)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(v, max_items, depth + 1) for v in value[:max_items]]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return plain(vars(value), max_items, depth)
    return value
