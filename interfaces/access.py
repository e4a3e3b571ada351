"""Who may reach a server: the rule every server entry point (web app, MCP over HTTP) applies before it starts.

With users in the database, every request is authenticated and every session
is its user's. Without users, a server serves one owner and so must not be
reachable by strangers: on a loopback address it starts; on any other address
it refuses, unless the operator passes ``--no-auth`` (then it warns, once, on
stderr), for a network that is already private or a proxy that authenticates.
"""

from __future__ import annotations

import ipaddress
import socket


class ExposureError(ValueError):
    """A server would be reachable by strangers without authentication."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) resolves to loopback addresses only."""
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(str(a).split("%")[0]).is_loopback for a in addresses)


def check_exposure(host: str, *, users: bool, no_auth: bool, command: str) -> str | None:
    """None when the server may start as configured, a warning to print when it starts unauthenticated on purpose;
    ExposureError when it must not start."""
    if users or is_loopback(host):
        return None
    if no_auth:
        return (
            f"warning: chatface {command} on {host} WITHOUT authentication (--no-auth): anyone who reaches this "
            "address can open, edit and download every session it serves"
        )
    raise ExposureError(
        f"chatface {command} on {host} would serve everyone who reaches it without a login: add a user "
        "first (chatface users add NAME), or pass --no-auth on a network you trust"
    )


class LoginThrottle:
    """Slows password guessing at a login: after ``failures`` wrong passwords for one name within ``window_s``, that
    name's logins are refused for ``lockout_s`` without the password being checked, right or wrong.

    Bounded: at most ``names`` names are remembered (the oldest dropped first), so a flood of made-up names cannot
    grow it. A lockout is short, so a stranger who types someone's name wrongly cannot keep them out for long.
    """

    def __init__(self, failures: int = 5, window_s: float = 300.0, lockout_s: float = 60.0, names: int = 10_000, clock=None) -> None:
        import threading
        import time
        from collections import OrderedDict

        self.failures, self.window_s, self.lockout_s, self.names = failures, window_s, lockout_s, names
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, tuple[list[float], float]] = OrderedDict()  # name -> (failure times, locked until)

    def locked(self, name: str) -> bool:
        """Whether logins of ``name`` are refused now."""
        with self._lock:
            entry = self._seen.get(name.casefold())
            return entry is not None and entry[1] > self._clock()

    def record(self, name: str, ok: bool) -> None:
        """Note the result of a login of ``name``: a success forgets its failures."""
        key, now = name.casefold(), self._clock()
        with self._lock:
            if ok:
                self._seen.pop(key, None)
                return
            times, until = self._seen.pop(key, ([], 0.0))
            times = [t for t in times if now - t < self.window_s] + [now]
            if len(times) >= self.failures:
                times, until = [], now + self.lockout_s
            self._seen[key] = (times, until)
            while len(self._seen) > self.names:
                self._seen.popitem(last=False)
