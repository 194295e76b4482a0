"""Who may talk to the engine at all: no web page, no DNS-rebound name.

A browser lets any page open a websocket to 127.0.0.1 (websockets have no CORS) and lets a
page on a rebound name (evil.example resolving to 127.0.0.1) send requests that look
same-origin. So every request is refused with 403 unless

* its `Host` is a loopback name (localhost, 127.0.0.1, [::1]) or the address the connection
  came in on (an IP literal cannot be rebound), and
* it has no `Origin` (programs), an allowed one (`--allowed-origin`), or the engine's own
  (websocket-client sends `Origin: http://<Host>`; no page can be served from the engine).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def split_host(value: str) -> tuple[str, int | None] | None:
    """`host[:port]` or `[v6][:port]` -> (lowercase host without brackets, port), or None."""
    value = value.strip().lower()
    if value.startswith("["):
        host, sep, rest = value[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    elif value.count(":") > 1:  # a bare IPv6 address
        host, port_text = value, None
    else:
        host, _, port_text = value.partition(":")
        port_text = port_text or None
    if port_text is not None and not port_text.isdigit():
        return None
    host = host.rstrip(".")
    return (host, int(port_text) if port_text else None) if host else None


def host_allowed(host_header: str | None, local_ip: str | None) -> bool:
    """Whether a request's `Host` names this engine: a loopback name, or the IP address of
    the socket it arrived on. No `Host` (HTTP/1.0, raw programs) is not a browser: allowed."""
    if host_header is None:
        return True
    parsed = split_host(host_header)
    if parsed is None:
        return False
    host = parsed[0]
    return host in LOOPBACK_NAMES or (local_ip is not None and _same_ip(host, local_ip))


def origin_allowed(origin: str | None, allowed: Iterable[str], host_header: str | None) -> bool:
    """No Origin, one of `allowed` (scheme://host[:port], compared without case or a trailing
    slash), or the engine's own origin (http(s)://<the request's Host>)."""
    if origin is None:
        return True
    wanted = normalise_origin(origin)
    if wanted in {normalise_origin(a) for a in allowed}:
        return True
    if host_header is None:
        return False
    parts = urlsplit(wanted)
    return parts.scheme in ("http", "https", "ws", "wss") and parts.netloc == \
        host_header.strip().lower() and not parts.path


def normalise_origin(origin: str) -> str:
    return origin.strip().lower().rstrip("/")


def _same_ip(host: str, local_ip: str) -> bool:
    try:
        a, b = ipaddress.ip_address(host), ipaddress.ip_address(local_ip.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(b, "ipv4_mapped", None)  # a dual-stack socket reports ::ffff:1.2.3.4
    return a == b or (mapped is not None and a == mapped)
