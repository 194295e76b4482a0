"""Speaker labels as people read them: the name the user gave ("Dana"), else "Speaker A".

A session stores the names in `session.json` (`speakers`: label → name); the turns keep the
server's labels, so a name can be changed at any time and every export and search follows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from .records import TurnRecord

# the service's labels for a turn too short to tell (PENDING replaced UNKNOWN in June 2026)
UNATTRIBUTED = frozenset({"UNKNOWN", "PENDING"})
# a call's microphone stream: the person using Earmark (the other side is diarized: A, B, …)
YOU = "You"


def speaker_name(label: str | None, names: Mapping[str, str]) -> str | None:
    """The name a person reads for `label` (None: no speaker labels in this session)."""
    if not label:
        return None
    if names.get(label):
        return names[label]
    if label == YOU:
        return YOU
    return "Unknown speaker" if label in UNATTRIBUTED else f"Speaker {label}"


def named_turns(turns: Sequence[TurnRecord], names: Mapping[str, str]) -> list[TurnRecord]:
    """The turns with each label replaced by the speaker's name."""
    return [dataclasses.replace(t, speaker=speaker_name(t.speaker, names)) if t.speaker else t
            for t in turns]


def title_from_words(text: str, max_words: int = 7, max_chars: int = 48) -> str:
    """A session's title from its first words: "We need to ship the release…"."""
    words = text.split()
    title = " ".join(words[:max_words])
    cut = len(words) > max_words or len(title) > max_chars
    if len(title) > max_chars:
        title = title[:max_chars].rsplit(" ", 1)[0]
    title = title.rstrip(".,;:!?")
    return f"{title}…" if cut else title


def transcript_lines(turns: Sequence[tuple[str | None, str]], names: Mapping[str, str]) -> str:
    """`Dana: …` lines (plain lines without labels): what an LLM gets as the transcript, so
    an answer can say who said or promised what."""
    lines = []
    for label, text in turns:
        name = speaker_name(label, names)
        lines.append(f"{name}: {text}" if name else text)
    return "\n".join(line for line in lines if line.strip())
