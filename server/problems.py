"""Tell the user about a problem once, not once per keystroke."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from lsprotocol import types

log = logging.getLogger(__name__)

QUIET_SECONDS = 300.0  # a problem shown this recently is only logged when it comes back


class ProblemReporter:
    """Shows one ``window/showMessage`` per distinct problem (key and message): not again while it lasts, and
    not again within ``quiet_seconds`` after it was resolved (an endpoint failing every other request would
    otherwise pop up a message per failure). Every report is logged."""

    def __init__(
        self,
        show: Callable[[types.ShowMessageParams], None],
        quiet_seconds: float = QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._show = show
        self._quiet = quiet_seconds
        self._clock = clock
        self._active: dict[str, str] = {}
        self._shown: dict[tuple[str, str], float] = {}  # (key, message) -> when last shown

    def report(self, key: str, message: str, level: types.MessageType = types.MessageType.Error) -> None:
        log.log(40 if level == types.MessageType.Error else 30, "%s", message)
        if self._active.get(key) == message:
            return
        self._active[key] = message
        now = self._clock()
        self._shown = {k: t for k, t in self._shown.items() if now - t < self._quiet}
        if (key, message) in self._shown:
            return  # came back soon after it was resolved: the user has seen it
        self._shown[(key, message)] = now
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
