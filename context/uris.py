"""Document URIs and the paths they name: one reading of ``file:`` URIs for the server and the context engine.

A file URI's path is percent-decoded, and ``file:///C:/x`` (a Windows drive) names ``C:/x``, not ``/C:/x``. Other
schemes (``untitled:``, ``vscode-notebook-cell:``) name no file on disk: the context engine keys them by the URI.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse


def _drive_path(path: str) -> str:
    """``/C:/x`` (how a file URI writes a Windows drive path) → ``C:/x``."""
    return path[1:] if len(path) > 2 and path[0] == "/" and path[2] == ":" and path[1].isalpha() else path


def uri_to_path(uri: str) -> Path:
    """The path a URI names: the decoded path of a ``file:`` URI (or of a bare path); for other schemes the decoded
    rest of the URI (its name stands for the document: ``untitled:Untitled-1`` → ``Untitled-1``)."""
    parsed = urlparse(uri)
    if parsed.scheme == "file" or not parsed.scheme:
        return Path(_drive_path(unquote(parsed.path)))
    return Path(unquote(parsed.path or uri))


@lru_cache(maxsize=65536)  # per snippet at packing, per request: the same few thousand keys
def uri_to_key(uri: str) -> str:
    """The index key of a document: its absolute path ('/'-separated) for file URIs, the URI itself otherwise."""
    return uri_to_path(uri).as_posix() if urlparse(uri).scheme == "file" else uri


@lru_cache(maxsize=65536)
def key_to_uri(key: str) -> str:
    return Path(key).as_uri() if key.startswith("/") else key
