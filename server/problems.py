"""Tell the user about a problem once, not once per keystroke."""

from __future__ import annotations

import logging
from typing import Callable

from lsprotocol import types

log = logging.getLogger(__name__)


class ProblemReporter:
    """Shows one ``window/showMessage`` per distinct problem until it is resolved."""

    def __init__(self, show: Callable[[types.ShowMessageParams], None]) -> None:
        self._show = show
        self._active: dict[str, str] = {}

    def report(self, key: str, message: str, level: types.MessageType = types.MessageType.Error) -> None:
        log.log(40 if level == types.MessageType.Error else 30, "%s", message)
        if self._active.get(key) == message:
            return
        self._active[key] = message
        try:
            self._show(types.ShowMessageParams(type=level, message=f"qwen-lsp: {message}"))
        except Exception:
            log.debug("could not show message", exc_info=True)

    def resolve(self, key: str) -> None:
        if self._active.pop(key, None) is not None:
            log.info("resolved: %s", key)

    @property
    def active(self) -> dict[str, str]:
        return dict(self._active)
