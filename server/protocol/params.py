"""Reading the parameters of custom notifications and command arguments."""

from __future__ import annotations

from typing import Any


def field(params: Any, name: str, default: Any = None) -> Any:
    """Custom notifications arrive as plain objects or dicts depending on the client library."""
    if isinstance(params, dict):
        return params.get(name, default)
    return getattr(params, name, default)
