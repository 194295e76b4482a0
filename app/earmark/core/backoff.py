"""When to try a lost connection again: 1, 2, 4, 8 s … (at most `max_s` apart), and when to
give up: `give_up_after_s` after the first failure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    give_up_after_s: float = 120.0
    first_s: float = 1.0
    max_s: float = 15.0
    started_at: float | None = None
    attempts: int = 0

    def next_delay(self, now: float) -> float | None:
        """Seconds to wait before the next attempt, or None: give up."""
        if self.started_at is None:
            self.started_at = now
        if now - self.started_at >= self.give_up_after_s:
            return None
        delay = min(self.max_s, self.first_s * 2 ** self.attempts)
        self.attempts += 1
        return min(delay, max(0.0, self.started_at + self.give_up_after_s - now))

    def exhausted(self, now: float) -> bool:
        return self.started_at is not None and now - self.started_at >= self.give_up_after_s

    def reset(self) -> None:
        self.started_at, self.attempts = None, 0
