"""The state of model-download offers for one session (``download`` makes the offers)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class ModelDownloads:
    """Per session: presets the user declined (or whose download was cancelled or failed), and one offer at a time."""

    declined: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def active(self) -> bool:
        """An offer or a download is under way (the model is missing on purpose: no error for it meanwhile)."""
        return self.lock.locked()
