"""``privacy.local_only``: no request leaves this machine.

The local backend never sends anything. A remote endpoint counts as local only when its host is a loopback
address (127.0.0.0/8, ::1) or the name ``localhost`` (which resolves to loopback by definition, RFC 6761); any
other host, including this machine's own LAN address or a name, is refused before a connection is attempted.
A loopback port forwarded elsewhere (an SSH tunnel) is the user's own choice and cannot be seen from here.
"""

from __future__ import annotations

import ipaddress
import threading
from typing import Any, AsyncIterator, Callable
from urllib.parse import urlsplit

from .base import BackendError, BackendStatus, ChatReply, GenerationParams, Prompt
from .fim_templates import FimTemplate


def is_loopback_url(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal_message(base_url: str) -> str:
    return (f"privacy.local_only is on and {base_url} is not on this machine, so nothing is sent to it: use the "
            "local backend (backend.kind \"local\"), a server on 127.0.0.1 or localhost, or turn privacy.local_only off")


class RefusedBackend:
    """Stands in for a remote backend that ``privacy.local_only`` forbids: every call fails with one clear message
    and nothing is contacted."""

    def __init__(self, base_url: str, on_status: Callable[[BackendStatus], None] | None = None) -> None:
        self.name = "refused (privacy.local_only)"
        self.message = refusal_message(base_url)
        self._status = BackendStatus("error", base_url, self.message)
        if on_status is not None:
            on_status(self._status)

    def status(self) -> BackendStatus:
        return self._status

    async def ensure_ready(self) -> None:
        raise BackendError(self.message)

    async def fim_template(self) -> FimTemplate:
        raise BackendError(self.message)

    async def stream_fim(self, prompt: Prompt, params: GenerationParams,
                         cancel: threading.Event) -> AsyncIterator[str]:
        raise BackendError(self.message)
        yield ""  # an async generator, like the others

    async def chat(self, messages: list[dict[str, Any]], params: GenerationParams,
                   tools: list[dict[str, Any]] | None = None, cancel: threading.Event | None = None) -> ChatReply:
        raise BackendError(self.message)

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1

    async def aclose(self) -> None:
        return None
