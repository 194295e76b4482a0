"""Bounds that keep the engine serving when clients misbehave: how many sessions at once, how
long a connection may idle before its request or between requests, how long a websocket may
leave a ping unanswered, and how many files the process may open."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass, field

from aiohttp import web

log = logging.getLogger(__name__)

# Connections that have not sent a complete request head within this many seconds are closed.
# Local clients send theirs at once; 10 s leaves room for a machine under heavy load.
REQUEST_TIMEOUT_S = 10.0
# Idle keep-alive connections between requests (aiohttp's default is an hour). Longer than
# aiohttp's client pool keeps them (15 s), so clients, not the engine, close them first and
# never reuse a connection the engine is just closing.
KEEPALIVE_TIMEOUT_S = 75.0
# A websocket is pinged this often; no pong within half of it drops the connection. Audio or
# any other frame from the client counts as a sign of life too.
HEARTBEAT_S = 20.0
_FALLBACK_OPEN_FILES = 10240  # macOS: the soft limit may not be RLIM_INFINITY (OPEN_MAX)


def default_max_sessions(cores: int | None = None) -> int:
    """Sessions served at once. One live session costs 0.26-0.35 CPU-seconds per second of
    audio (README, on 2 cores), so two per core keep real-time sessions within the machine
    with room for the LLM; beyond that every session falls behind rather than one more being
    refused. At least 4: the app holds two while it switches prompt between turns, a stopped
    session may still drain its LLM answers (3 s), and a script of the user's may run too."""
    cores = cores or os.cpu_count() or 1
    return max(4, 2 * cores)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What `build_app` enforces per request."""

    max_sessions: int = field(default_factory=default_max_sessions)
    allowed_origins: tuple[str, ...] = ()
    heartbeat_s: float = HEARTBEAT_S


def raise_open_file_limit() -> tuple[int, int] | None:
    """Lift the soft RLIMIT_NOFILE to the hard limit (Linux, macOS), so a flood of idle
    sockets does not leave the engine unable to accept (EMFILE) at a desktop's usual 1,024.
    Returns the (old, new) soft limit, or None where there is no such limit to raise.
    Note: select() cannot watch descriptors above 1,023; the engine uses epoll/kqueue."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    if soft == infinity or (hard != infinity and soft >= hard):
        return soft, soft
    for target in (hard, _FALLBACK_OPEN_FILES):
        if target == infinity or target <= soft:
            continue
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as exc:
            log.debug("could not raise the open-file limit to %d: %s", target, exc)
            continue
        log.info("open-file limit raised from %d to %d", soft, target)
        return soft, target
    return soft, soft


class ConnectionGuard:
    """Closes connections whose first request head has not arrived within `timeout_s` (an
    idle or a slowloris client); aiohttp waits for it forever. Later idle periods are
    bounded by the keep-alive timeout, open websockets by the heartbeat."""

    def __init__(self, server: web.Server, timeout_s: float = REQUEST_TIMEOUT_S) -> None:
        self.server = server
        self.timeout_s = timeout_s
        self._first_seen: dict[object, float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.timeout_s > 0 and self._task is None:
            self._task = asyncio.create_task(self._run(), name="engine-connection-guard")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        period = min(1.0, self.timeout_s / 4)
        while True:
            await asyncio.sleep(period)
            closed = self.sweep(time.monotonic())
            if closed:
                log.info("closed %d connection(s) that sent no request within %.0f s",
                         closed, self.timeout_s)

    def sweep(self, now: float) -> int:
        """Close the connections overdue for their first request; how many were closed."""
        live = self.server.connections
        self._first_seen = {h: self._first_seen.get(h, now) for h in live}
        closed = 0
        for handler, seen in self._first_seen.items():
            if (now - seen >= self.timeout_s and _requests_seen(handler) == 0
                    and getattr(handler, "transport", None) is not None):
                handler.force_close()
                closed += 1
        return closed


def _requests_seen(handler: object) -> int:
    """Request heads parsed on this connection (aiohttp >= 3.9 counts them); when the count is
    unknown, the connection is left alone."""
    count = getattr(handler, "_request_count", None)
    return count if isinstance(count, int) else 1
