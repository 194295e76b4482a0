"""SRT and WebVTT: one cue per turn, timed by its words (else the turn's start/end)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..records import TurnRecord

MIN_CUE_MS = 500
UNTIMED_CUE_MS = 2000


@dataclass(frozen=True, slots=True)
class Cue:
    start_ms: int
    end_ms: int
    text: str
    speaker: str | None = None


def cues(turns: Sequence[TurnRecord]) -> list[Cue]:
    """A turn without any timing follows the previous cue (a guess, but it stays in order)."""
    out: list[Cue] = []
    previous_end = 0
    for turn in turns:
        text = " ".join(turn.text.split())  # a blank line would end the cue early
        if not text:
            continue
        if turn.words:
            start, end = turn.words[0].start_ms, turn.words[-1].end_ms
        else:
            start, end = turn.start_ms, turn.end_ms
        if start is None:
            start = previous_end
        if end is None or end < start + MIN_CUE_MS:
            end = start + (UNTIMED_CUE_MS if end is None else MIN_CUE_MS)
        start = max(0, start)
        out.append(Cue(start, end, text, turn.speaker))
        previous_end = end
    return out


def timestamp(ms: int, separator: str) -> str:
    """`HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT)."""
    ms = max(0, ms)
    return (f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}"
            f"{separator}{ms % 1000:03d}")


def to_srt(turns: Sequence[TurnRecord]) -> str:
    blocks = []
    for number, cue in enumerate(cues(turns), start=1):
        speaker = f"{cue.speaker}: " if cue.speaker else ""
        blocks.append(f"{number}\n{timestamp(cue.start_ms, ',')} --> "
                      f"{timestamp(cue.end_ms, ',')}\n{speaker}{cue.text}\n")
    return "\n".join(blocks)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(turns: Sequence[TurnRecord]) -> str:
    blocks = ["WEBVTT\n"]
    for cue in cues(turns):
        text = _vtt_escape(cue.text)
        if cue.speaker:
            text = f"<v {_vtt_escape(cue.speaker)}>{text}"
        blocks.append(f"{timestamp(cue.start_ms, '.')} --> {timestamp(cue.end_ms, '.')}\n"
                      f"{text}\n")
    return "\n".join(blocks)
