"""Plain text: a header, the transcript with times, each answer under its turn, the analysis."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from ..records import Analysis, AnswerRecord, SessionMeta, TurnRecord
from ._common import (
    answers_by_turn,
    clock,
    duration,
    local,
    orphan_answers,
    plural,
    speaker_prefix,
)


def _indent(text: str, prefix: str = "    ") -> str:
    return textwrap.indent(text.strip(), prefix, lambda _line: True)


def _answer(answer: AnswerRecord) -> str:
    if answer.error:
        return _indent(f"LLM error ({answer.model}): {answer.error}")
    return _indent(f"Answer ({answer.model}):\n{answer.answer}")


def to_text(meta: SessionMeta, turns: Sequence[TurnRecord],
            answers: Sequence[AnswerRecord] = (), analysis: Analysis | None = None) -> str:
    analysis = analysis or meta.analysis
    when = local(meta.started_at)
    if meta.ended_at is not None:
        when += f" – {meta.ended_at.astimezone():%H:%M}"
    lines = [meta.title or "Untitled session",
             f"{when} · {duration(meta.audio_duration_ms)} · {plural(len(turns), 'turn')}",
             f"Engine: {meta.engine} · Speech model: {meta.speech_model} · "
             f"LLM: {meta.llm_model}", "", "TRANSCRIPT", ""]
    grouped = answers_by_turn(answers)
    for turn in turns:
        lines.append(f"[{clock(turn.start_ms)}] {speaker_prefix(turn)}{turn.text}")
        lines.extend(_answer(a) for a in grouped.get(turn.turn_order, []))
        lines.append("")
    orphans = orphan_answers(turns, answers)
    if orphans:
        lines += ["ANSWERS WITHOUT A SAVED TURN", ""]
        for answer in orphans:
            lines += [f"Turn {answer.turn_order}:", _answer(answer), ""]
    if analysis is not None:
        lines += [f"ANALYSIS ({analysis.model})", "", analysis.text.strip(), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
