"""JSON: everything in one document, readable back with `from_json`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from ..records import (
    SCHEMA_VERSION,
    Analysis,
    AnswerRecord,
    SessionData,
    SessionMeta,
    TurnRecord,
)
from ..speakers import speaker_name

FORMAT_NAME = "earmark-session"


def to_json(meta: SessionMeta, turns: Sequence[TurnRecord],
            answers: Sequence[AnswerRecord] = (), analysis: Analysis | None = None) -> str:
    if analysis is not None:
        meta = dataclasses.replace(meta, analysis=analysis)
    document = {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION,
                "session": meta.to_dict(), "turns": [_turn(t, meta) for t in turns],
                "answers": [a.to_dict() for a in answers]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _turn(turn: TurnRecord, meta: SessionMeta) -> dict[str, Any]:
    """The turn as stored, with the speaker's name beside its label ("Dana", "Speaker A")."""
    d = turn.to_dict()
    if turn.speaker:
        d["speaker_name"] = speaker_name(turn.speaker, meta.speakers)
    return d


def from_json(text: str) -> SessionData:
    """Read a `to_json` document back; ValueError when it is not one."""
    document: Any = json.loads(text)
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        raise ValueError(f"not an {FORMAT_NAME} JSON document")
    return SessionData(SessionMeta.from_dict(document.get("session")),
                       tuple(TurnRecord.from_dict(t) for t in document.get("turns", [])),
                       tuple(AnswerRecord.from_dict(a) for a in document.get("answers", [])))
