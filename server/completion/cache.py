"""LRU cache of completions; typing what a cached completion predicted reuses its remainder."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class CacheKey:
    uri: str
    prefix: str
    suffix: str


class CompletionCache:
    def __init__(self, capacity: int = 256) -> None:
        self._entries: OrderedDict[CacheKey, str] = OrderedDict()
        self._capacity = capacity

    def get(self, key: CacheKey) -> str | None:
        """An exact hit, or the rest of a cached completion whose start the user has since typed."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        for cached_key, completion in reversed(self._entries.items()):
            if cached_key.uri != key.uri or cached_key.suffix != key.suffix:
                continue
            if not key.prefix.startswith(cached_key.prefix):
                continue
            typed = key.prefix[len(cached_key.prefix) :]
            if typed and completion.startswith(typed) and len(completion) > len(typed):
                return completion[len(typed) :]
        return None

    def put(self, key: CacheKey, completion: str) -> None:
        self._entries[key] = completion
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
