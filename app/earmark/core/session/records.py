"""The plain data of a session and its JSON form (the on-disk format, see FORMAT.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from .paths import AUDIO_FILE

SCHEMA_VERSION = 1
SAMPLE_RATE = 16_000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes: PCM16 little-endian


class SessionStatus(StrEnum):
    RECORDING = "recording"
    COMPLETE = "complete"
    # ended, but the transcript does not cover all of the audio (no Termination, a connection
    # that could not be restored): `transcribed_until_ms` says how far it does
    INCOMPLETE = "incomplete"
    RECOVERED = "recovered"
    DAMAGED = "damaged"  # only in SessionSummary: never written to session.json


def now() -> datetime:
    """The local wall-clock time with its UTC offset."""
    return datetime.now().astimezone()


def format_time(value: datetime) -> str:
    """ISO 8601 with the UTC offset (microseconds only when there are any, so it round-trips);
    a naive datetime is taken as local time."""
    return value.astimezone().isoformat()


def parse_time(value: Any, key: str) -> datetime:
    if value is None:
        raise ValueError(f"'{key}' is missing")
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be an ISO 8601 time, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{key}' is not an ISO 8601 time: {value!r}") from None
    return parsed.astimezone()


def _get(d: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
    if key not in d or d[key] is None:
        if default is ...:
            raise ValueError(f"'{key}' is missing")
        return default
    value = d[key]
    # bool is an int in Python; a JSON true is never a valid number here.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _kinds(kind)):
        raise ValueError(f"'{key}' has the wrong type: {value!r}")
    return value


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _opt_time(d: dict[str, Any], key: str) -> datetime | None:
    return None if d.get(key) is None else parse_time(d[key], key)


def _speakers(value: Any) -> dict[str, str]:
    """`speakers` of session.json; anything malformed is dropped, not fatal."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str) and v}


def _require_dict(d: Any, what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(d).__name__}")
    return d


@dataclass(frozen=True, slots=True)
class WordRecord:
    text: str
    start_ms: int
    end_ms: int
    confidence: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "start_ms": self.start_ms, "end_ms": self.end_ms,
                "confidence": self.confidence}

    @classmethod
    def from_dict(cls, d: Any) -> WordRecord:
        d = _require_dict(d, "a word")
        return cls(text=_get(d, "text", str), start_ms=int(_get(d, "start_ms", (int, float))),
                   end_ms=int(_get(d, "end_ms", (int, float))),
                   confidence=_get(d, "confidence", (int, float), None))


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One final turn. `start_ms`/`end_ms` (stream clock) default to the words' span."""

    turn_order: int
    text: str
    words: tuple[WordRecord, ...] = ()
    start_ms: int | None = None
    end_ms: int | None = None
    speaker: str | None = None
    wall_time: datetime = field(default_factory=now)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", tuple(self.words))
        if self.words:
            if self.start_ms is None:
                object.__setattr__(self, "start_ms", self.words[0].start_ms)
            if self.end_ms is None:
                object.__setattr__(self, "end_ms", self.words[-1].end_ms)

    def to_dict(self) -> dict[str, Any]:
        return {"turn_order": self.turn_order, "text": self.text,
                "start_ms": self.start_ms, "end_ms": self.end_ms, "speaker": self.speaker,
                "wall_time": format_time(self.wall_time),
                "words": [w.to_dict() for w in self.words]}

    @classmethod
    def from_dict(cls, d: Any) -> TurnRecord:
        d = _require_dict(d, "a turn")
        start, end = _get(d, "start_ms", (int, float), None), _get(d, "end_ms", (int, float), None)
        return cls(turn_order=_get(d, "turn_order", int), text=_get(d, "text", str),
                   words=tuple(WordRecord.from_dict(w) for w in _get(d, "words", list, [])),
                   start_ms=None if start is None else int(start),
                   end_ms=None if end is None else int(end),
                   speaker=_get(d, "speaker", str, None),
                   wall_time=parse_time(d.get("wall_time"), "wall_time"))


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """The LLM's answer to one turn; `error` is set (and `answer` usually empty) on failure."""

    turn_order: int
    prompt: str
    model: str
    answer: str
    usage: dict[str, Any] = field(default_factory=dict)
    latency_ms: int | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=now)

    def to_dict(self) -> dict[str, Any]:
        return {"turn_order": self.turn_order, "prompt": self.prompt, "model": self.model,
                "answer": self.answer, "usage": self.usage, "latency_ms": self.latency_ms,
                "error": self.error, "created_at": format_time(self.created_at)}

    @classmethod
    def from_dict(cls, d: Any) -> AnswerRecord:
        d = _require_dict(d, "an answer")
        latency = _get(d, "latency_ms", (int, float), None)
        return cls(turn_order=_get(d, "turn_order", int), prompt=_get(d, "prompt", str, ""),
                   model=_get(d, "model", str, ""), answer=_get(d, "answer", str, ""),
                   usage=_get(d, "usage", dict, {}),
                   latency_ms=None if latency is None else int(latency),
                   error=_get(d, "error", str, None),
                   created_at=_opt_time(d, "created_at") or now())


@dataclass(frozen=True, slots=True)
class Analysis:
    """The LLM's reading of the whole session (summary, action items, ...)."""

    text: str
    model: str
    prompt: str
    created_at: datetime = field(default_factory=now)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "model": self.model, "prompt": self.prompt,
                "created_at": format_time(self.created_at)}

    @classmethod
    def from_dict(cls, d: Any) -> Analysis:
        d = _require_dict(d, "'analysis'")
        return cls(text=_get(d, "text", str), model=_get(d, "model", str, ""),
                   prompt=_get(d, "prompt", str, ""),
                   created_at=_opt_time(d, "created_at") or now())


_META_KEYS = {"schema_version", "id", "title", "engine", "speech_model", "llm_model", "prompt",
              "started_at", "ended_at", "status", "audio_duration_ms", "turn_count", "analysis",
              "sample_rate", "channels", "sample_format", "transcribed_until_ms", "speakers"}


@dataclass(frozen=True, slots=True)
class SessionMeta:
    """What session.json holds. The app fills the first five fields; the rest have defaults
    the recorder keeps up to date. `extra` keeps keys written by newer versions."""

    title: str = ""
    engine: str = ""
    speech_model: str = ""
    llm_model: str = ""
    prompt: str = ""
    started_at: datetime = field(default_factory=now)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    ended_at: datetime | None = None
    status: SessionStatus = SessionStatus.RECORDING
    audio_duration_ms: int = 0
    turn_count: int = 0
    analysis: Analysis | None = None
    transcribed_until_ms: int | None = None  # INCOMPLETE: the audio after this has no words
    speakers: dict[str, str] = field(default_factory=dict, hash=False)  # label -> a name
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = {"schema_version": SCHEMA_VERSION, "id": self.id, "title": self.title,
             "engine": self.engine, "speech_model": self.speech_model,
             "llm_model": self.llm_model, "prompt": self.prompt,
             "started_at": format_time(self.started_at),
             "ended_at": None if self.ended_at is None else format_time(self.ended_at),
             "status": str(self.status), "audio_duration_ms": self.audio_duration_ms,
             "turn_count": self.turn_count,
             "sample_rate": SAMPLE_RATE, "channels": CHANNELS, "sample_format": "pcm_s16le",
             "analysis": None if self.analysis is None else self.analysis.to_dict()}
        if self.transcribed_until_ms is not None:
            d["transcribed_until_ms"] = self.transcribed_until_ms
        if self.speakers:
            d["speakers"] = dict(self.speakers)
        return {**self.extra, **d}

    @classmethod
    def from_dict(cls, d: Any) -> SessionMeta:
        d = _require_dict(d, "session.json")
        version = _get(d, "schema_version", int)
        if version < 1:
            raise ValueError(f"unknown schema_version {version}")
        status_text = _get(d, "status", str)
        try:
            status = SessionStatus(status_text)
        except ValueError:
            raise ValueError(f"unknown status {status_text!r}") from None
        if status is SessionStatus.DAMAGED:
            raise ValueError("status 'damaged' is not stored on disk")
        analysis = d.get("analysis")
        return cls(title=_get(d, "title", str, ""), engine=_get(d, "engine", str, ""),
                   speech_model=_get(d, "speech_model", str, ""),
                   llm_model=_get(d, "llm_model", str, ""), prompt=_get(d, "prompt", str, ""),
                   started_at=parse_time(d.get("started_at"), "started_at"),
                   id=_get(d, "id", str), ended_at=_opt_time(d, "ended_at"), status=status,
                   audio_duration_ms=int(_get(d, "audio_duration_ms", (int, float), 0)),
                   turn_count=_get(d, "turn_count", int, 0),
                   analysis=None if analysis is None else Analysis.from_dict(analysis),
                   transcribed_until_ms=_get(d, "transcribed_until_ms", int, None),
                   speakers=_speakers(d.get("speakers")),
                   extra={k: v for k, v in d.items() if k not in _META_KEYS})


@dataclass(frozen=True, slots=True)
class SessionData:
    """A whole session as plain data: what the exporters take (saved or live)."""

    meta: SessionMeta
    turns: tuple[TurnRecord, ...] = ()
    answers: tuple[AnswerRecord, ...] = ()

    @property
    def analysis(self) -> Analysis | None:
        return self.meta.analysis


@dataclass(frozen=True, slots=True)
class SavedSession:
    """A session read from disk. `problems` lists what was skipped (damaged lines, ...)."""

    folder: Path
    meta: SessionMeta
    turns: tuple[TurnRecord, ...] = ()
    answers: tuple[AnswerRecord, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def analysis(self) -> Analysis | None:
        return self.meta.analysis

    @property
    def audio_path(self) -> Path:
        return self.folder / AUDIO_FILE

    def data(self) -> SessionData:
        return SessionData(self.meta, self.turns, self.answers)


def latest_turns(turns: list[TurnRecord]) -> tuple[TurnRecord, ...]:
    """One turn per turn_order, the last written winning (a re-added turn is a revision; one
    re-added with no text and no words was withdrawn: a call's echo)."""
    by_order: dict[int, TurnRecord] = {}
    for turn in turns:
        by_order[turn.turn_order] = turn
    return tuple(by_order[k] for k in sorted(by_order) if by_order[k].text or by_order[k].words)
