"""Markdown: title, metadata, the transcript with times, answers quoted under their turns."""

from __future__ import annotations

from collections.abc import Sequence

from ..records import Analysis, AnswerRecord, SessionMeta, TurnRecord
from ._common import answers_by_turn, clock, duration, local, orphan_answers


def _quote(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def _answer(answer: AnswerRecord) -> str:
    if answer.error:
        return _quote(f"**LLM error** ({answer.model}): {answer.error}")
    return _quote(f"**Answer** ({answer.model}):\n\n{answer.answer}")


def to_markdown(meta: SessionMeta, turns: Sequence[TurnRecord],
                answers: Sequence[AnswerRecord] = (), analysis: Analysis | None = None) -> str:
    analysis = analysis or meta.analysis
    out = [f"# {meta.title or 'Untitled session'}", "",
           f"- **Started:** {local(meta.started_at)}"]
    if meta.ended_at is not None:
        out.append(f"- **Ended:** {local(meta.ended_at)}")
    out += [f"- **Duration:** {duration(meta.audio_duration_ms)}",
            f"- **Turns:** {len(turns)}",
            f"- **Engine:** {meta.engine} (speech model `{meta.speech_model}`)",
            f"- **LLM:** `{meta.llm_model}`"]
    if meta.prompt:
        out += ["", "**Prompt:**", "", _quote(meta.prompt)]
    out += ["", "## Transcript", ""]
    grouped = answers_by_turn(answers)
    for turn in turns:
        speaker = f" **{turn.speaker}:**" if turn.speaker else ""
        out += [f"**[{clock(turn.start_ms)}]**{speaker} {turn.text}", ""]
        for answer in grouped.get(turn.turn_order, []):
            out += [_answer(answer), ""]
    orphans = orphan_answers(turns, answers)
    if orphans:
        out += ["## Answers without a saved turn", ""]
        for answer in orphans:
            out += [f"Turn {answer.turn_order}:", "", _answer(answer), ""]
    if analysis is not None:
        out += ["## Analysis", "", f"*{analysis.model}, {local(analysis.created_at)}*", "",
                analysis.text.strip(), ""]
    return "\n".join(out).rstrip("\n") + "\n"
