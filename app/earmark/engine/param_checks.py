"""Range checks of the numeric v3 parameters, at connection time and in UpdateConfiguration.

Every number must be finite and inside the range `shared/protocol/assemblyai-v3.md` §3.1 (and
its December 2026 update) gives; anything else is refused with close 3006 and a sentence, never
a traceback. Where the reference gives no range, the bound is chosen to keep the engine sane
and is marked so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from earmark.core.protocol import StreamingParams


@dataclass(frozen=True, slots=True)
class Range:
    low: float
    high: float

    def describe(self) -> str:
        return f"between {_number(self.low)} and {_number(self.high)}"


NUMERIC_RANGES: dict[str, Range] = {
    # §3.1 says 8000-48000 (a third party 8000-96000); the 2026-12 update: 8,000-96,000.
    "sample_rate": Range(8000, 96000),
    "end_of_turn_confidence_threshold": Range(0.0, 1.0),  # §3.1
    "vad_threshold": Range(0.0, 1.0),  # §3.1
    "voice_focus_threshold": Range(0.0, 1.0),  # §3.1
    # The 2026-12 update: clamped to 50-10,000 ms. Below 50 the engine simply waits less.
    "min_turn_silence": Range(0, 10_000),
    "min_end_of_turn_silence_when_confident": Range(0, 10_000),  # the old name
    # No range in the reference; a turn lasts at most 60 s (2026-12 update), so a longer
    # forced end could never apply.
    "max_turn_silence": Range(0, 60_000),
    # §3.1: 5-3600 s. 0 (off) and 1-4 s are accepted: the engine's own tests idle for 1 s.
    "inactivity_timeout": Range(0, 3600),
    "max_speakers": Range(1, 10),  # §3.1
    "interruption_delay": Range(0, 1000),  # §3.1
    "previous_context_n_turns": Range(0, 100),  # 2026-12 update
    "speaker_labels_revision_interval_ms": Range(0, 86_400_000),  # §3.1
    "turn_left_pad_ms": Range(0, 10_000),  # undocumented; the engine's own sane bound
}
MAX_KEYTERMS = 100  # §3.1: more than 100 terms is an error


def check_number(name: str, value: Any) -> str | None:
    """Why `value` cannot be `name`, or None. Names without a known range pass."""
    bounds = NUMERIC_RANGES.get(name)
    if bounds is None or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"Invalid Message: {name} must be a number {bounds.describe()}, got {value!r}"
    if not math.isfinite(value) or not bounds.low <= value <= bounds.high:
        return f"Invalid Message: {name} must be {bounds.describe()}, got {_number(value)}"
    return None


def check_connection(params: StreamingParams) -> str | None:
    """The numeric connection parameters, those the engine reads and those it ignores."""
    for name in NUMERIC_RANGES:
        if name in params.unknown:
            problem = _check_raw(name, params.unknown[name])
        else:
            problem = check_number(name, getattr(params, name, None))
        if problem:
            return problem
    return _check_keyterms(params.keyterms_prompt)


def check_update(fields: Mapping[str, Any]) -> str | None:
    """The fields of an UpdateConfiguration message (numbers as JSON decoded them)."""
    for name, value in fields.items():
        problem = check_number(name, value)
        if problem:
            return problem
    terms = fields.get("keyterms_prompt")
    return _check_keyterms(terms) if isinstance(terms, list | tuple) else None


def _check_raw(name: str, raw: str) -> str | None:
    """A parameter the engine does not read, still as its query-string text."""
    try:
        value = float(raw)
    except ValueError:
        return f"Invalid Message: bad value for {name}: {raw[:60]!r}"
    return check_number(name, value)


def _check_keyterms(terms: Any) -> str | None:
    if terms is not None and len(terms) > MAX_KEYTERMS:
        return f"Invalid Message: keyterms_prompt holds {len(terms)} terms (at most {MAX_KEYTERMS})"
    return None


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)
