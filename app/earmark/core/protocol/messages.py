"""Typed models of every AssemblyAI Universal Streaming v3 message, in both directions.

Pure Python, no Qt: the desktop client parses what a server sends with `parse_server_message`,
and the embedded engine builds the same classes and sends `to_json()`. Field names and types
follow `shared/protocol/assemblyai-v3.md` §5-6 (what the official Python SDK validates), so a
message the engine emits passes the SDK's pydantic models.

Unknown fields are kept in `extra`, so `from_dict(d).to_dict() == d` for every documented
example, and a newer server adding a field never breaks parsing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


class ProtocolError(ValueError):
    """A message that is not valid v3: bad JSON, a missing field or a field of the wrong type."""


# --- field readers: strict about types, because the SDK is -----------------------------------

_MISSING = object()


def _get(d: dict[str, Any], key: str, kinds: tuple[type, ...], optional: bool = False) -> Any:
    value = d.get(key, _MISSING)
    if value is _MISSING or (optional and value is None):
        if optional:
            return None
        raise ProtocolError(f"missing field '{key}'")
    # bool is an int subclass: never accept True where a number is expected, or 1 for a bool.
    if isinstance(value, bool) and bool not in kinds:
        raise ProtocolError(f"field '{key}' must be {_kind_names(kinds)}, got a boolean")
    if not isinstance(value, kinds):
        raise ProtocolError(f"field '{key}' must be {_kind_names(kinds)}, got {value!r}")
    return value


def _kind_names(kinds: tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in kinds)


def _int(d: dict[str, Any], key: str) -> int:
    return _get(d, key, (int,))


def _opt_int(d: dict[str, Any], key: str) -> int | None:
    return _get(d, key, (int,), optional=True)


def _float(d: dict[str, Any], key: str) -> float:
    return _get(d, key, (int, float))


def _opt_float(d: dict[str, Any], key: str) -> float | None:
    return _get(d, key, (int, float), optional=True)


def _str(d: dict[str, Any], key: str) -> str:
    return _get(d, key, (str,))


def _opt_str(d: dict[str, Any], key: str) -> str | None:
    return _get(d, key, (str,), optional=True)


def _bool(d: dict[str, Any], key: str) -> bool:
    return _get(d, key, (bool,))


def _dict(d: dict[str, Any], key: str) -> dict[str, Any]:
    return _get(d, key, (dict,))


def _list(d: dict[str, Any], key: str) -> list[Any]:
    return _get(d, key, (list,))


def _extra(d: dict[str, Any], known: set[str]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in known}


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


# --- shared parts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its position on the stream clock (ms from the first audio byte)."""

    start: int
    end: int
    text: str
    confidence: float
    word_is_final: bool
    speaker: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    _FIELDS: ClassVar[set[str]] = {"start", "end", "text", "confidence", "word_is_final", "speaker"}

    @classmethod
    def from_dict(cls, d: Any) -> Word:
        if not isinstance(d, dict):
            raise ProtocolError(f"a word must be an object, got {d!r}")
        return cls(
            start=_int(d, "start"),
            end=_int(d, "end"),
            text=_str(d, "text"),
            confidence=_float(d, "confidence"),
            word_is_final=_bool(d, "word_is_final"),
            speaker=_opt_str(d, "speaker"),
            extra=_extra(d, cls._FIELDS),
        )

    def to_dict(self) -> dict[str, Any]:
        d = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "confidence": self.confidence,
            "word_is_final": self.word_is_final,
        }
        if self.speaker is not None:
            d["speaker"] = self.speaker
        return {**d, **self.extra}


def _words(d: dict[str, Any], key: str = "words") -> tuple[Word, ...]:
    return tuple(Word.from_dict(w) for w in _list(d, key))


# --- server -> client --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Begin:
    """First message after the upgrade: the session id and when it expires."""

    TYPE: ClassVar[str] = "Begin"
    id: str
    expires_at: int
    configuration: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Begin:
        configuration = d.get("configuration")
        if configuration is not None and not isinstance(configuration, dict):
            raise ProtocolError("field 'configuration' must be an object")
        return cls(
            id=_str(d, "id"),
            expires_at=_int(d, "expires_at"),
            configuration=configuration,
            extra=_extra(d, {"type", "id", "expires_at", "configuration"}),
        )

    def to_dict(self) -> dict[str, Any]:
        d = {"type": self.TYPE, "id": self.id, "expires_at": self.expires_at}
        if self.configuration is not None:
            d["configuration"] = self.configuration
        return {**d, **self.extra}


@dataclass(frozen=True, slots=True)
class Turn:
    """The words of one turn so far; `end_of_turn` marks the final message of the turn."""

    TYPE: ClassVar[str] = "Turn"
    turn_order: int
    turn_is_formatted: bool
    end_of_turn: bool
    transcript: str
    end_of_turn_confidence: float
    words: tuple[Word, ...] = ()
    utterance: str | None = None
    language_code: str | None = None
    language_confidence: float | None = None
    speaker_label: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    _OPTIONAL: ClassVar[tuple[str, ...]] = (
        "utterance",
        "language_code",
        "language_confidence",
        "speaker_label",
    )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Turn:
        known = {"type", "turn_order", "turn_is_formatted", "end_of_turn", "transcript",
                 "end_of_turn_confidence", "words", *cls._OPTIONAL}
        return cls(
            turn_order=_int(d, "turn_order"),
            turn_is_formatted=_bool(d, "turn_is_formatted"),
            end_of_turn=_bool(d, "end_of_turn"),
            transcript=_str(d, "transcript"),
            end_of_turn_confidence=_float(d, "end_of_turn_confidence"),
            words=_words(d),
            utterance=_opt_str(d, "utterance"),
            language_code=_opt_str(d, "language_code"),
            language_confidence=_opt_float(d, "language_confidence"),
            speaker_label=_opt_str(d, "speaker_label"),
            extra=_extra(d, known),
        )

    def to_dict(self) -> dict[str, Any]:
        d = {
            "type": self.TYPE,
            "turn_order": self.turn_order,
            "turn_is_formatted": self.turn_is_formatted,
            "end_of_turn": self.end_of_turn,
            "transcript": self.transcript,
            "end_of_turn_confidence": self.end_of_turn_confidence,
            "words": [w.to_dict() for w in self.words],
        }
        d.update(_drop_none({k: getattr(self, k) for k in self._OPTIONAL}))
        return {**d, **self.extra}

    @property
    def text(self) -> str:
        """What to show: the transcript, or on streaming partials all words including the last,
        non-final one (Universal-Streaming leaves it out of `transcript`)."""
        if self.end_of_turn or not self.words:
            return self.transcript
        return " ".join(w.text for w in self.words)


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    TYPE: ClassVar[str] = "SpeechStarted"
    timestamp: int
    confidence: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpeechStarted:
        return cls(
            timestamp=_int(d, "timestamp"),
            confidence=_opt_float(d, "confidence"),
            extra=_extra(d, {"type", "timestamp", "confidence"}),
        )

    def to_dict(self) -> dict[str, Any]:
        d = _drop_none({"type": self.TYPE, "timestamp": self.timestamp,
                        "confidence": self.confidence})
        return {**d, **self.extra}


@dataclass(frozen=True, slots=True)
class LLMGatewayResponse:
    """The LLM's answer for one final turn; `data` is a chat-completion response object."""

    TYPE: ClassVar[str] = "LLMGatewayResponse"
    turn_order: int
    transcript: str
    data: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LLMGatewayResponse:
        return cls(
            turn_order=_int(d, "turn_order"),
            transcript=_str(d, "transcript"),
            data=_dict(d, "data"),
            extra=_extra(d, {"type", "turn_order", "transcript", "data"}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "turn_order": self.turn_order, "transcript": self.transcript,
                "data": self.data, **self.extra}

    @property
    def content(self) -> str:
        """The assistant's text, or '' when the answer has none (a tool call, an empty choice)."""
        choices = self.data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return ""
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            return "".join(p.get("text", "") for p in content if isinstance(p, dict))
        return content if isinstance(content, str) else ""

    @property
    def error(self) -> str | None:
        """The reason the LLM call failed, when the server reports it inside `data`."""
        err = self.data.get("error")
        if isinstance(err, dict):
            return str(err.get("message") or err)
        return str(err) if err else None


@dataclass(frozen=True, slots=True)
class TurnRevision:
    turn_order: int
    speaker_label: str
    words: tuple[Word, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: Any) -> TurnRevision:
        if not isinstance(d, dict):
            raise ProtocolError("a revision must be an object")
        return cls(
            turn_order=_int(d, "turn_order"),
            speaker_label=_str(d, "speaker_label"),
            words=_words(d),
            extra=_extra(d, {"turn_order", "speaker_label", "words"}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"turn_order": self.turn_order, "speaker_label": self.speaker_label,
                "words": [w.to_dict() for w in self.words], **self.extra}


@dataclass(frozen=True, slots=True)
class SpeakerRevision:
    TYPE: ClassVar[str] = "SpeakerRevision"
    revisions: tuple[TurnRevision, ...]
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpeakerRevision:
        return cls(
            revisions=tuple(TurnRevision.from_dict(r) for r in _list(d, "revisions")),
            extra=_extra(d, {"type", "revisions"}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "revisions": [r.to_dict() for r in self.revisions],
                **self.extra}


@dataclass(frozen=True, slots=True)
class Heartbeat:
    TYPE: ClassVar[str] = "Heartbeat"
    total_audio_received_ms: int
    total_duration_ms: int
    realtime_factor: float
    max_speech_probability: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Heartbeat:
        return cls(
            total_audio_received_ms=_int(d, "total_audio_received_ms"),
            total_duration_ms=_int(d, "total_duration_ms"),
            realtime_factor=_float(d, "realtime_factor"),
            max_speech_probability=_opt_float(d, "max_speech_probability"),
            extra=_extra(d, {"type", "total_audio_received_ms", "total_duration_ms",
                             "realtime_factor", "max_speech_probability"}),
        )

    def to_dict(self) -> dict[str, Any]:
        d = _drop_none({
            "type": self.TYPE,
            "total_audio_received_ms": self.total_audio_received_ms,
            "total_duration_ms": self.total_duration_ms,
            "realtime_factor": self.realtime_factor,
            "max_speech_probability": self.max_speech_probability,
        })
        return {**d, **self.extra}


@dataclass(frozen=True, slots=True)
class Silence:
    TYPE: ClassVar[str] = "Silence"
    start_ms: int
    end_ms: int
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Silence:
        return cls(start_ms=_int(d, "start_ms"), end_ms=_int(d, "end_ms"),
                   extra=_extra(d, {"type", "start_ms", "end_ms"}))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "start_ms": self.start_ms, "end_ms": self.end_ms, **self.extra}


@dataclass(frozen=True, slots=True)
class ServerWarning:
    """`{"type": "Warning"}`: non-fatal; the session goes on."""

    TYPE: ClassVar[str] = "Warning"
    warning_code: int
    warning: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServerWarning:
        return cls(warning_code=_int(d, "warning_code"), warning=_str(d, "warning"),
                   extra=_extra(d, {"type", "warning_code", "warning"}))

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "warning_code": self.warning_code, "warning": self.warning,
                **self.extra}


@dataclass(frozen=True, slots=True)
class ServerError:
    """`{"type": "Error"}` (or the legacy untyped `{"error": ...}`); a close follows."""

    TYPE: ClassVar[str] = "Error"
    error: str
    error_code: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ServerError:
        return cls(error=_str(d, "error"), error_code=_opt_int(d, "error_code"),
                   extra=_extra(d, {"type", "error", "error_code"}))

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.TYPE}
        if self.error_code is not None:
            d["error_code"] = self.error_code
        d["error"] = self.error
        return {**d, **self.extra}


@dataclass(frozen=True, slots=True)
class Termination:
    """Last message of a session, after `Terminate`; durations are whole seconds."""

    TYPE: ClassVar[str] = "Termination"
    audio_duration_seconds: int | None = None
    session_duration_seconds: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Termination:
        return cls(
            audio_duration_seconds=_opt_int(d, "audio_duration_seconds"),
            session_duration_seconds=_opt_int(d, "session_duration_seconds"),
            extra=_extra(d, {"type", "audio_duration_seconds", "session_duration_seconds"}),
        )

    def to_dict(self) -> dict[str, Any]:
        d = _drop_none({"type": self.TYPE, "audio_duration_seconds": self.audio_duration_seconds,
                        "session_duration_seconds": self.session_duration_seconds})
        return {**d, **self.extra}


@dataclass(frozen=True, slots=True)
class UnknownMessage:
    """A message of a type this version does not know; logged and ignored by the client."""

    type: str
    raw: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.raw


ServerMessage = (
    Begin | Turn | SpeechStarted | LLMGatewayResponse | SpeakerRevision | Heartbeat | Silence
    | ServerWarning | ServerError | Termination | UnknownMessage
)

SERVER_MESSAGE_TYPES: dict[str, Any] = {
    cls.TYPE: cls
    for cls in (Begin, Turn, SpeechStarted, LLMGatewayResponse, SpeakerRevision, Heartbeat,
                Silence, ServerWarning, ServerError, Termination)
}


def parse_server_message(text: str | bytes) -> ServerMessage:
    """Parse one text frame from the server. Raises ProtocolError when it is not valid v3."""
    data = _load_object(text)
    kind = data.get("type")
    if kind is None and "error" in data:  # legacy untyped error
        return ServerError.from_dict(data)
    if not isinstance(kind, str):
        raise ProtocolError("message has no 'type'")
    cls = SERVER_MESSAGE_TYPES.get(kind)
    if cls is None:
        return UnknownMessage(type=kind, raw=data)
    return cls.from_dict(data)


def _load_object(text: str | bytes) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("message is not a JSON object")
    return data


# --- client -> server --------------------------------------------------------------------------

UPDATABLE_FIELDS: frozenset[str] = frozenset({
    "end_of_turn_confidence_threshold", "min_turn_silence", "max_turn_silence", "vad_threshold",
    "format_turns", "keyterms_prompt", "filter_profanity", "prompt", "agent_context",
    "interruption_delay", "turn_left_pad_ms", "language_codes", "session_heartbeat",
    "acknowledge_silence", "mode", "continuous_partials",
})


@dataclass(frozen=True, slots=True)
class UpdateConfiguration:
    """Change turn detection or keyterms mid-session; no acknowledgement comes back."""

    TYPE: ClassVar[str] = "UpdateConfiguration"
    fields: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> UpdateConfiguration:
        return cls(fields={k: v for k, v in d.items() if k != "type"})

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, **self.fields}


@dataclass(frozen=True, slots=True)
class ForceEndpoint:
    TYPE: ClassVar[str] = "ForceEndpoint"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ForceEndpoint:
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE}


@dataclass(frozen=True, slots=True)
class KeepAlive:
    TYPE: ClassVar[str] = "KeepAlive"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KeepAlive:
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE}


@dataclass(frozen=True, slots=True)
class Terminate:
    TYPE: ClassVar[str] = "Terminate"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Terminate:
        return cls()

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE}


ClientMessage = UpdateConfiguration | ForceEndpoint | KeepAlive | Terminate

CLIENT_MESSAGE_TYPES: dict[str, Any] = {
    cls.TYPE: cls for cls in (UpdateConfiguration, ForceEndpoint, KeepAlive, Terminate)
}


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse one text frame from a client (used by the engine). Raises ProtocolError."""
    data = _load_object(text)
    kind = data.get("type")
    cls = CLIENT_MESSAGE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ProtocolError(f"Invalid Message Type: {kind}")
    return cls.from_dict(data)


def to_json(message: ServerMessage | ClientMessage) -> str:
    """Compact JSON, as the SDKs and the service send it."""
    return json.dumps(message.to_dict(), separators=(",", ":"), ensure_ascii=False)
