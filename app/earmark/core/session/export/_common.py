"""What the exporters share: time formats and grouping answers under their turns."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from ..records import AnswerRecord, TurnRecord


def clock(ms: int | None) -> str:
    """`HH:MM:SS` on the recording's clock ('--:--:--' when unknown)."""
    if ms is None:
        return "--:--:--"
    seconds = max(0, ms) // 1000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def duration(ms: int) -> str:
    """`1 h 02 min`, `12 min 05 s`, `42 s`."""
    seconds = max(0, ms) // 1000
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


def local(when: datetime | None) -> str:
    return "" if when is None else when.astimezone().strftime("%Y-%m-%d %H:%M")


def answers_by_turn(answers: Iterable[AnswerRecord]) -> dict[int, list[AnswerRecord]]:
    grouped: dict[int, list[AnswerRecord]] = defaultdict(list)
    for answer in answers:
        grouped[answer.turn_order].append(answer)
    return grouped


def speaker_prefix(turn: TurnRecord) -> str:
    return f"{turn.speaker}: " if turn.speaker else ""


def orphan_answers(turns: Iterable[TurnRecord],
                   answers: Iterable[AnswerRecord]) -> list[AnswerRecord]:
    """Answers whose turn is not in the transcript (its write failed, ...): still exported."""
    orders = {t.turn_order for t in turns}
    return [a for a in answers if a.turn_order not in orders]


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
