"""A logging filter that keeps a hostile or broken client from filling the disk with the log.

At most `burst` records of one kind (logger, level and message template, with numbers and
addresses blanked) pass per `window_s`; the rest are counted and reported afterwards as one
"suppressed K similar messages" line. Installed on the engine's loggers and on asyncio's and
aiohttp's, where accept errors (EMFILE) and bad requests are logged once per connection.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ENGINE_LOGGERS = ("earmark.engine", "asyncio", "aiohttp")
_VARIABLE = re.compile(r"0x[0-9a-fA-F]+|\d+")
_TEMPLATE_CHARS = 200

Key = tuple[str, int, str]


@dataclass
class _Window:
    start: float
    passed: int = 0
    suppressed: int = 0


def record_key(record: logging.LogRecord) -> Key:
    """What makes two records "similar": same logger, level and message template. asyncio
    formats its messages itself, so ids and addresses are blanked out of the template."""
    template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
    first_line = template.split("\n", 1)[0][:_TEMPLATE_CHARS]
    return record.name, record.levelno, _VARIABLE.sub("#", first_line)


class RateLimitFilter(logging.Filter):
    """Pass at most `burst` similar records per `window_s` seconds."""

    def __init__(self, burst: int = 20, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.burst = burst
        self.window_s = window_s
        self._clock = clock
        self._windows: dict[Key, _Window] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_earmark_summary", False):
            return True
        now = self._clock()
        with self._lock:
            expired = self._sweep(now)
            window = self._windows.get(key := record_key(record))
            if window is None or now - window.start >= self.window_s:
                if window is not None and window.suppressed:
                    expired.append((key, window))
                window = self._windows[key] = _Window(now)
            allowed = window.passed < self.burst
            if allowed:
                window.passed += 1
            else:
                window.suppressed += 1
        for old_key, old in expired:
            _emit_summary(old_key, old.suppressed, self.window_s)
        return allowed

    def _sweep(self, now: float) -> list[tuple[Key, _Window]]:
        """Forget finished windows (the memory stays bounded); those that suppressed records
        are returned to be reported."""
        if now - self._last_sweep < self.window_s:
            return []
        self._last_sweep = now
        done = [(k, w) for k, w in self._windows.items() if now - w.start >= self.window_s]
        for k, _ in done:
            del self._windows[k]
        return [(k, w) for k, w in done if w.suppressed]


def _emit_summary(key: Key, count: int, window_s: float) -> None:
    name, level, template = key
    logger = logging.getLogger(name)
    record = logger.makeRecord(
        name, level, "(log rate limit)", 0,
        "suppressed %d similar messages in %.0f s: %s", (count, window_s, template), None)
    record._earmark_summary = True  # type: ignore[attr-defined]
    logger.handle(record)


def install_rate_limit(prefixes: Iterable[str] = ENGINE_LOGGERS,
                       limiter: RateLimitFilter | None = None) -> RateLimitFilter:
    """Put one shared filter on every existing logger under `prefixes` (and the prefixes
    themselves). Idempotent: loggers that have an engine rate limit already keep theirs.
    A logger's filter sees only the records logged to it, hence one per logger."""
    limiter = limiter or RateLimitFilter()
    prefixes = tuple(prefixes)
    names = {*prefixes, *(n for n in list(logging.root.manager.loggerDict)
                          if n.startswith(tuple(f"{p}." for p in prefixes)))}
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RateLimitFilter) for f in logger.filters):
            logger.addFilter(limiter)
    return limiter
