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
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)


def check_exposure(host: str, *, users: bool, no_auth: bool, command: str) -> str | None:
    """None when the server may start as configured, a warning to print when it starts unauthenticated on purpose;
    ExposureError when it must not start."""
    if users or is_loopback(host):
        return None
    if no_auth:
        return (f"warning: chatface {command} on {host} WITHOUT authentication (--no-auth): anyone who reaches this "
                "address can open, edit and download every session it serves")
    raise ExposureError(f"chatface {command} on {host} would serve everyone who reaches it without a login: add a user "
                        "first (chatface users add NAME), or pass --no-auth on a network you trust")
