"""``privacy.local_only``: no request leaves this machine.

The local backend never sends anything. A remote endpoint counts as local only when its host is a loopback
address (127.0.0.0/8, ::1) or the name ``localhost`` (which resolves to loopback by definition, RFC 6761); any
other host, including this machine's own LAN address or a name, is refused before a connection is attempted.
A loopback port forwarded elsewhere (an SSH tunnel) is the user's own choice and cannot be seen from here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from ..base import BackendStatus
from ..unavailable import UnavailableBackend


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
    return (
        f"privacy.local_only is on and {base_url} is not on this machine, so nothing is sent to it: use the "
        'local backend (backend.kind "local"), a server on 127.0.0.1 or localhost, or turn privacy.local_only off'
    )


class RefusedBackend(UnavailableBackend):
    """Stands in for a remote backend that ``privacy.local_only`` forbids: every call fails with one clear message
    and nothing is contacted."""

    def __init__(self, base_url: str, on_status: Callable[[BackendStatus], None] | None = None) -> None:
        super().__init__("refused (privacy.local_only)", refusal_message(base_url))
        self.base_url = base_url
        if on_status is not None:
            on_status(self.status())

    def status(self) -> BackendStatus:
        return BackendStatus("error", self.base_url, self.reason)
