"""A call: the microphone ("You") and what the speakers play (the other side) as two streams of
one session, over two connections, as the service recommends for two channels.

The session's controller streams the microphone; this adds the second stream, a controller of
its own (with its own reconnection and flow control) that shows its turns in the same cards,
numbers them with the same `TurnNumbers` (so the transcript interleaves both in the order they
began) and saves them, and its audio as `system.wav`, in the same session. The other side is
diarized ("Speaker A", "Speaker B"); the microphone's turns are all "You". On laptop speakers
the microphone hears the other side too: those words are taken out of "You" turns
(core/echo.py); the recording keeps them.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..core.echo import LATEST_MS, TimedWord, own_words
from ..core.grounded_prompts import with_speaker_names
from ..core.protocol import TurnNumbers
from ..core.session.speakers import YOU
from ..core.turns import TranscriptTurn
from .session_config import SessionConfig

if TYPE_CHECKING:
    from .live_session import LiveSessionController
    from .session_recording import SessionRecording

log = logging.getLogger(__name__)

NEARBY_MS = 5000  # other-side turns this close to a "You" turn are checked for its echo


class OtherSideRecording(QObject):
    """What the second stream saves, into the first stream's session: its turns and answers,
    and its audio as system.wav. The session itself begins and ends with the first stream."""

    problem = Signal(str)  # the session's own recording reports disk problems
    resolved = Signal()

    def __init__(self, session: SessionRecording | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self.recorder = None  # names are saved by the session's own recording

    def begin(self, _meta: object) -> bool:
        return True

    def write_audio(self, frame: bytes) -> None:
        if self._session is not None:
            self._session.write_system_audio(frame)

    def add_turn(self, turn: TranscriptTurn) -> None:
        if self._session is not None:
            self._session.add_turn(turn)

    def add_answer(self, answer: object, model: str) -> None:
        if self._session is not None:
            self._session.add_answer(answer, model)

    def withdraw_turn(self, order: int) -> None:
        if self._session is not None:
            self._session.withdraw_turn(order)

    def set_title(self, _title: str) -> None:
        pass  # the session is named after the first words of either side, by the first stream

    def set_prompt(self, name: str) -> None:
        pass  # the first stream records the prompt change

    def finish(self, _until: int | None = None) -> None:
        return None

    def discard(self) -> None:
        pass


class CallStreams(QObject):
    def __init__(self, microphone: LiveSessionController, config: SessionConfig) -> None:
        super().__init__(microphone)
        from .live_session import LiveSessionController  # the same controller, once more

        self.microphone = microphone
        self._config = replace(config, make_source=config.system_source, system_source=None)
        self.other = LiveSessionController(
            parent=self, recording=OtherSideRecording(microphone.recording, self),
            cards=(microphone.transcript, microphone.answers))
        self.other.problem.connect(lambda text: microphone.problem.emit(_other(text)))
        self.other.notice.connect(lambda text: microphone.notice.emit(_other(text)))
        self.other.link_notice.connect(
            lambda kind, text: microphone.link_notice.emit(kind, _other(text)))
        self.other.turn_updated.connect(self._on_other_turn)
        microphone.cards.filter = self._without_echo

    def microphone_config(self, config: SessionConfig) -> SessionConfig:
        """The microphone stream's configuration: one known speaker, so no diarization, and
        the embedded engine's answers read its turns as "You: …"."""
        params = replace(config.params, speaker_labels=None, max_speakers=None)
        if params.llm_gateway is not None and config.local:
            params = replace(params, llm_gateway=with_speaker_names(
                params.llm_gateway, config.prompt, {"": YOU}, embedded=True))
        return replace(config, params=params, system_source=None)

    def start(self, numbers: TurnNumbers) -> None:
        log.info("call: the other side streams as a second connection")
        self.other.start_session(self._config, numbers=numbers)
        self.other.speaker_names = self.microphone.speaker_names
        self.microphone.cards.by_position = self.other.cards.by_position = True

    def stop(self) -> None:
        self.other.stop_session()

    def shutdown(self, timeout_ms: int) -> None:
        self.other.shutdown(timeout_ms)

    def rename_speaker(self, label: str, name: str) -> None:
        self.other.rename_speaker(label, name)

    def _on_other_turn(self, turn: TranscriptTurn) -> None:
        """New words from the other side may be the source of an echo already shown."""
        if turn.start_ms is not None:
            self.microphone.recheck(turn.start_ms - NEARBY_MS)

    def _without_echo(self, turn: TranscriptTurn) -> TranscriptTurn | None:
        if not turn.words:
            return turn
        mic = [TimedWord(w.text, w.start, w.end) for w in turn.words]
        kept = own_words(mic, self._other_words_near(mic[0].start, mic[-1].end))
        if kept is None:
            return None
        if len(kept) == len(mic):
            return turn
        words = tuple(turn.words[i] for i in kept)
        return replace(turn, words=words, text=" ".join(w.text for w in words))

    def _other_words_near(self, start_ms: int, end_ms: int) -> list[TimedWord]:
        words: list[TimedWord] = []
        for turn in reversed(self.other.assembler.turns):
            if turn.end_ms is not None and turn.end_ms < start_ms - LATEST_MS - NEARBY_MS:
                break
            words[:0] = [TimedWord(w.text, w.start, w.end) for w in turn.words
                         if start_ms - NEARBY_MS <= w.start <= end_ms + NEARBY_MS]
        return words


def _other(text: str) -> str:
    return f"The other side (system audio): {text}"
