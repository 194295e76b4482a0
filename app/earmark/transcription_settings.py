"""What every session asks the server for beyond the model: speaker labels (and at most how
many speakers) and a vocabulary of names and terms (`keyterms_prompt`), read from and written
to `settings.Settings`."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .core.protocol import StreamingParams
from .settings import Key, Settings

MAX_TERMS = 100  # the service's limit on keyterms_prompt
MAX_SPEAKERS = 10  # the service's limit on max_speakers


@dataclass(frozen=True, slots=True)
class TranscriptionSettings:
    speaker_labels: bool = False
    max_speakers: int = 0  # 0: as many as the server finds
    vocabulary: tuple[str, ...] = ()

    @classmethod
    def load(cls, settings: Settings) -> TranscriptionSettings:
        return cls(speaker_labels=settings.get(Key.SPEAKER_LABELS),
                   max_speakers=_int(settings.get(Key.MAX_SPEAKERS)),
                   vocabulary=parse_vocabulary(settings.get(Key.VOCABULARY)))

    def save(self, settings: Settings) -> None:
        settings.set(Key.SPEAKER_LABELS, self.speaker_labels)
        settings.set(Key.MAX_SPEAKERS, self.max_speakers)
        settings.set(Key.VOCABULARY, ", ".join(self.vocabulary))

    def apply(self, params: StreamingParams) -> StreamingParams:
        """`params` asking for what these settings say."""
        changes: dict[str, object] = {}
        if self.speaker_labels:
            changes["speaker_labels"] = True
            if self.max_speakers:
                changes["max_speakers"] = self.max_speakers
        if self.vocabulary:
            changes["keyterms_prompt"] = self.vocabulary
        return dataclasses.replace(params, **changes)


def parse_vocabulary(text: str) -> tuple[str, ...]:
    """Names and terms separated by commas, semicolons or lines; duplicates dropped."""
    terms = (" ".join(t.split()) for t in re.split(r"[,;\n]", text or ""))
    return tuple(dict.fromkeys(t for t in terms if t))[:MAX_TERMS]


def _int(value: object) -> int:
    try:
        return max(0, min(MAX_SPEAKERS, int(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
