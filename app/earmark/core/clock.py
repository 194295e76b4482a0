"""Times as the window shows them: a position in a session (`01:05`, `1:02:05`) and a length
(`1:05`, `1:02:05`); hours only when there are any."""

from __future__ import annotations


def format_clock(ms: int | None) -> str:
    """A position: two-digit minutes (`00:42`, `12:05`, `1:02:03`); "" when unknown."""
    if ms is None:
        return ""
    seconds = max(0, ms) // 1000
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def format_duration(ms: int) -> str:
    """A length: `0:42`, `12:05`, `1:02:03`."""
    seconds = max(0, ms) // 1000
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
