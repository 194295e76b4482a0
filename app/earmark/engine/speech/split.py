"""Partials on one model, finals on another.

Partials come about once a second and must be quick; a final comes once per turn, is the text
that stays, and may take a little longer: a larger model can decode it (`--final-speech-model`).
"""

from __future__ import annotations

import numpy as np

from .backend import Decoded, SpeechBackend


class SplitBackend:
    """A SpeechBackend that sends partial decodes to `partials` and final ones to `finals`."""

    def __init__(self, partials: SpeechBackend, finals: SpeechBackend) -> None:
        self.partials = partials
        self.finals = finals
        self.name = partials.name

    def warm_up(self) -> None:
        self.partials.warm_up()
        self.finals.warm_up()

    def decode(self, audio: np.ndarray, *, final: bool, keyterms: tuple[str, ...] = (),
               prefix: str = "") -> Decoded:
        backend = self.finals if final else self.partials
        return backend.decode(audio, final=final, keyterms=keyterms, prefix=prefix)
