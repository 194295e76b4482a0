"""Chat-completion request bodies (§11.2) for a whole-session analysis, including the two steps
of the map-reduce used when a transcript is longer than the model's context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..grounded_prompts import session_messages
from ..prompts import Prompt

Message = dict[str, str]

PART_INSTRUCTION = (
    "This is part {index} of {count} of a conversation transcript. Summarise it so that a "
    "later reader can answer questions about the whole conversation: keep who said what, "
    "decisions, numbers, dates, open questions and short exact quotes. Do not add anything "
    "that is not in the text.\n\nTranscript part {index}/{count}:\n{part}")


def chat_body(model: str, messages: Sequence[Message], *, max_tokens: int, stream: bool = True,
              fallbacks: Sequence[str] = (), temperature: float | None = None) -> dict[str, Any]:
    """A `POST /v1/chat/completions` body. `fallbacks` (up to two, §11.2) are tried in order
    by the Gateway when `model` fails at runtime."""
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages],
                            "max_tokens": max_tokens, "stream": stream}
    if temperature is not None:
        body["temperature"] = temperature
    chosen = [f for f in dict.fromkeys(fallbacks) if f and f != model][:2]
    if chosen:
        body["fallbacks"] = [{"model": f} for f in chosen]
        body["fallback_config"] = {"depth": len(chosen)}
    return body


def _with_system(prompt: Prompt, user: str) -> list[Message]:
    system = prompt.system_text()
    return ([{"role": "system", "content": system}] if system else []) + \
        [{"role": "user", "content": user}]


def analysis_messages(prompt: Prompt, transcript: str) -> list[Message]:
    """The prompt's whole-session question with the transcript in place of `{{transcript}}`,
    under the same grounding system message as the per-turn answers."""
    return session_messages(prompt, transcript)


def part_summary_messages(prompt: Prompt, part: str, index: int, count: int) -> list[Message]:
    """The map step: a faithful summary of one part (in the prompt's answer language)."""
    return _with_system(prompt, PART_INSTRUCTION.format(index=index, count=count, part=part))


def combined_summaries(summaries: Sequence[str]) -> str:
    """What the reduce step puts in place of `{{transcript}}`: the parts' summaries in order."""
    count = len(summaries)
    blocks = [f"[Summary of part {i}/{count} of the transcript]\n{s.strip()}"
              for i, s in enumerate(summaries, start=1)]
    return ("(The transcript was too long to send whole; these are summaries of its "
            "consecutive parts.)\n\n" + "\n\n".join(blocks))
