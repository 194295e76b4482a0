"""Typed models of every AssemblyAI Universal Streaming v3 message, in both directions.

Pure Python, no Qt: the desktop client parses what a server sends with `parse_server_message`,
and the embedded engine builds the same classes and sends `to_json()`. Field names and types
follow `shared/protocol/assemblyai-v3.md` §5-6 (what the official Python SDK validates), so a
message the engine emits passes the SDK's pydantic models.

Unknown fields are kept in `extra`, so `from_dict(d).to_dict() == d` for every documented
example, and a newer server adding a field never breaks parsing.

Whatever a server sends, parsing either returns a message whose fields later code can use as
they are, or raises ProtocolError: never another exception. Beyond the types, that means
bounds: a message of at most MAX_MESSAGE_CHARS, nested at most MAX_DEPTH deep, no NaN or
infinity (nor 1e400, which JSON parses as infinity), no lone surrogate in a string (it cannot be
written as UTF-8), a `turn_order` in 0..MAX_TURN_ORDER and every other integer (times in ms,
durations, codes) in 0..MAX_INT. A key given twice is tolerated: the last one counts, as in
every JSON parser the SDKs use.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

MAX_MESSAGE_CHARS = 1_000_000  # a real message is a few KB; a long turn's words under 200 KB
MAX_DEPTH = 32  # nesting of objects and arrays; real messages reach 5
MAX_TURN_ORDER = 2**31 - 1  # a turn a second for 68 years; a C int in Qt models
MAX_INT = 2**53 - 1  # every other integer: exact in a double, far above any real value


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
        raise ProtocolError(f"field '{key}' must be {_kind_names(kinds)}, got {_preview(value)}")
    return value


def _kind_names(kinds: tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in kinds)


def _preview(value: Any, limit: int = 60) -> str:
    """A value for an error message: its repr, cut short (a server may send megabytes)."""
    if isinstance(value, list | dict):
        return f"a JSON {'array' if isinstance(value, list) else 'object'}"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _bounded(key: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ProtocolError(f"field '{key}' must be within {low}..{high}, got {_preview(value)}")
    return value


def _int(d: dict[str, Any], key: str, high: int = MAX_INT) -> int:
    return _bounded(key, _get(d, key, (int,)), 0, high)


def _opt_int(d: dict[str, Any], key: str) -> int | None:
    value = _get(d, key, (int,), optional=True)
    return None if value is None else _bounded(key, value, 0, MAX_INT)


def _turn_order(d: dict[str, Any]) -> int:
    return _int(d, "turn_order", MAX_TURN_ORDER)


def _float(d: dict[str, Any], key: str) -> float:
    return _finite(key, _get(d, key, (int, float)))


def _opt_float(d: dict[str, Any], key: str) -> float | None:
    value = _get(d, key, (int, float), optional=True)
    return None if value is None else _finite(key, value)


def _finite(key: str, value: float) -> float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ProtocolError(f"field '{key}' must be a finite number, got {value!r}")
    return value


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
            turn_order=_turn_order(d),
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
            turn_order=_turn_order(d),
            transcript=_str(d, "transcript"),
            data=_dict(d, "data"),
            extra=_extra(d, {"type", "turn_order", "transcript", "data"}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.TYPE, "turn_order": self.turn_order, "transcript": self.transcript,
                "data": self.data, **self.extra}

    @property
    def content(self) -> str:
        """The assistant's text, or '' when the answer has none (a tool call, an empty choice)
        or `data` is not shaped like a chat completion (the SDK takes any object there)."""
        choices = self.data.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return ""
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            return "".join(p["text"] for p in content
                           if isinstance(p, dict) and isinstance(p.get("text"), str))
        return content if isinstance(content, str) else ""

    @property
    def error(self) -> str | None:
        """The reason the LLM call failed, when the server reports it inside `data`."""
        err = self.data.get("error")
        if isinstance(err, dict):
            err = err.get("message") or err
        if not err:
            return None
        return err if isinstance(err, str) else json.dumps(err, ensure_ascii=False)

    @property
    def model(self) -> str | None:
        """The model that answered: `data.model`, else the echoed `data.request.model`."""
        model = self.data.get("model")
        if not isinstance(model, str) or not model:
            request = self.data.get("request")
            model = request.get("model") if isinstance(request, dict) else None
        return model if isinstance(model, str) and model else None

    @property
    def usage(self) -> dict[str, Any]:
        """Token counts as the server reports them; {} when it does not (or not as an object)."""
        usage = self.data.get("usage")
        return usage if isinstance(usage, dict) else {}


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
            turn_order=_turn_order(d),
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
    """Parse one frame from the server. Raises ProtocolError when it is not valid v3, and
    nothing else whatever `text` holds."""
    data = _load_object(text)
    kind = data.get("type")
    if kind is None and "error" in data:  # legacy untyped error
        return ServerError.from_dict(data)
    if not isinstance(kind, str):
        raise ProtocolError(f"field 'type' must be a string, got {_preview(kind)}")
    cls = SERVER_MESSAGE_TYPES.get(kind)
    if cls is None:
        return UnknownMessage(type=kind, raw=data)
    return cls.from_dict(data)


def _load_object(text: str | bytes) -> dict[str, Any]:
    if not isinstance(text, str | bytes | bytearray):
        raise ProtocolError(f"a message must be text, got {type(text).__name__}")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(f"message too large: {len(text)} characters "
                            f"(at most {MAX_MESSAGE_CHARS})")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ProtocolError("not JSON: nested too deeply to parse") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("message is not a JSON object")
    _check_values(data)
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _check_values(data: dict[str, Any]) -> None:
    """Reject what `json.loads` accepts but later code cannot use: nesting deeper than
    MAX_DEPTH (re-encoding it may overflow the stack), a float too large for a double, a string
    with a lone surrogate. Iterative, so a deep message cannot overflow the stack here."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ProtocolError(f"nested more than {MAX_DEPTH} levels deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            _check_text(value)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ProtocolError(f"a number too large for a double: {value!r}")


def _check_text(text: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError(f"a string is not valid Unicode: {_preview(text)}") from None


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
