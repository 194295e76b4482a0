"""Connection parameters of a v3 session and their query-string encoding.

The client encodes with `StreamingParams.to_query()`; the embedded engine decodes any client's
query (ours, the Python SDK's `True`, the JS SDK's compact JSON) with `from_query()`.
Lists and objects travel as JSON strings; booleans as `true`/`false`, parsed in any case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlencode

from .messages import ProtocolError

TURN_PLACEHOLDER = "{{turn}}"
# Earmark's extension of `llm_gateway`, for the embedded engine only: speaker label -> the name
# `{{turn}}` is prefixed with ("Dana: we ship on Friday"); "" names turns without a label
# (a call's microphone: "You"). A labelled turn without a name reads "Speaker A: …".
SPEAKER_NAMES = "speaker_names"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True, slots=True)
class LLMGatewayConfig:
    """The `llm_gateway` connection parameter: a chat request run on every final turn,
    with `{{turn}}` in the messages replaced by the turn's text."""

    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 4000
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "messages": [m.to_dict() for m in self.messages],
                "max_tokens": self.max_tokens, **self.extra}

    @classmethod
    def from_dict(cls, d: Any) -> LLMGatewayConfig:
        if not isinstance(d, dict):
            raise ProtocolError("llm_gateway must be a JSON object")
        model, messages, max_tokens = d.get("model"), d.get("messages"), d.get("max_tokens", 4000)
        if not isinstance(model, str) or not model:
            raise ProtocolError("llm_gateway.model must be a string")
        if not isinstance(messages, list) or not messages:
            raise ProtocolError("llm_gateway.messages must be a non-empty list")
        parsed = []
        for m in messages:
            if not (isinstance(m, dict) and isinstance(m.get("role"), str)
                    and isinstance(m.get("content"), str)):
                raise ProtocolError("each llm_gateway message needs a role and a content string")
            parsed.append(ChatMessage(m["role"], m["content"]))
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ProtocolError("llm_gateway.max_tokens must be a positive integer")
        extra = {k: v for k, v in d.items() if k not in {"model", "messages", "max_tokens"}}
        return cls(model=model, messages=tuple(parsed), max_tokens=max_tokens, extra=extra)

    def render(self, turn_text: str) -> list[dict[str, str]]:
        """The messages with every `{{turn}}` replaced by the turn's text."""
        return [{"role": m.role, "content": m.content.replace(TURN_PLACEHOLDER, turn_text)}
                for m in self.messages]


# Field name -> wire kind. Order is the order they are sent in.
_KINDS: dict[str, str] = {
    "sample_rate": "int",
    "encoding": "str",
    "speech_model": "str",
    "format_turns": "bool",
    "end_of_turn_confidence_threshold": "float",
    "min_turn_silence": "int",
    "max_turn_silence": "int",
    "vad_threshold": "float",
    "keyterms_prompt": "json_list",
    "prompt": "str",
    "language_detection": "bool",
    "filter_profanity": "bool",
    "inactivity_timeout": "int",
    "speaker_labels": "bool",
    "max_speakers": "int",
    "session_heartbeat": "bool",
    "acknowledge_silence": "bool",
    "llm_gateway": "llm_gateway",
    "token": "str",
}

# Names that older clients send for the same setting.
_ALIASES = {"min_end_of_turn_silence_when_confident": "min_turn_silence",
            "keyterms": "keyterms_prompt"}


@dataclass(frozen=True, slots=True)
class StreamingParams:
    """Everything a client puts in the `/v3/ws` query string. None means "not sent"."""

    sample_rate: int = 16000
    encoding: str | None = None
    speech_model: str | None = None
    format_turns: bool | None = None
    end_of_turn_confidence_threshold: float | None = None
    min_turn_silence: int | None = None
    max_turn_silence: int | None = None
    vad_threshold: float | None = None
    keyterms_prompt: tuple[str, ...] | None = None
    prompt: str | None = None
    language_detection: bool | None = None
    filter_profanity: bool | None = None
    inactivity_timeout: int | None = None
    speaker_labels: bool | None = None
    max_speakers: int | None = None
    session_heartbeat: bool | None = None
    acknowledge_silence: bool | None = None
    llm_gateway: LLMGatewayConfig | None = None
    token: str | None = None
    unknown: dict[str, str] = field(default_factory=dict, compare=False)

    def to_query(self) -> dict[str, str]:
        """The query as the service documents it: lowercase booleans, compact JSON."""
        query: dict[str, str] = {}
        for name, kind in _KINDS.items():
            value = getattr(self, name)
            if value is not None:
                query[name] = _encode(kind, value)
        return query

    def query_string(self) -> str:
        return urlencode(self.to_query())

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> StreamingParams:
        """Decode any client's query. Raises ProtocolError for a value of the wrong kind;
        unknown names are kept in `unknown` (the SDKs add parameters often)."""
        values: dict[str, Any] = {}
        unknown: dict[str, str] = {}
        for raw_name, raw in query.items():
            name = _ALIASES.get(raw_name, raw_name)
            kind = _KINDS.get(name)
            if kind is None:
                unknown[raw_name] = raw
                continue
            values[name] = _decode(name, kind, raw)
        return cls(**values, unknown=unknown)

    def with_updates(self, **changes: Any) -> StreamingParams:
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in changes.items() if k in known})


def _encode(kind: str, value: Any) -> str:
    if kind == "bool":
        return "true" if value else "false"
    if kind == "json_list":
        return json.dumps(list(value), separators=(",", ":"))
    if kind == "llm_gateway":
        return json.dumps(value.to_dict(), separators=(",", ":"))
    return str(value)


def _decode(name: str, kind: str, raw: str) -> Any:
    try:
        if kind == "int":
            return int(float(raw)) if "." in raw else int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered not in {"true", "false", "1", "0"}:
                raise ValueError(raw)
            return lowered in {"true", "1"}
        if kind == "json_list":
            value = json.loads(raw)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(raw)
            return tuple(value)
        if kind == "llm_gateway":
            return LLMGatewayConfig.from_dict(json.loads(raw))
    except ProtocolError:
        raise
    except (ValueError, OverflowError, RecursionError):  # int(float("1.5e400")), [[[[…
        raise ProtocolError(f"Invalid Message: bad value for {name}: {raw[:60]!r}") from None
    return raw
