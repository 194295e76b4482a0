"""Saves the live session as it happens: audio from the capture thread, each final turn, each
answer, and the end. Disk problems come back as one sentence on a queued signal; the session
keeps running and the recorder keeps what it cannot write in memory until it can."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QObject, Signal

from ..core.session import (
    AnswerRecord,
    SessionError,
    SessionMeta,
    SessionRecorder,
    SessionStore,
    TurnRecord,
    WordRecord,
)
from ..core.turns import TranscriptTurn, TurnAnswer

log = logging.getLogger(__name__)


class SessionRecording(QObject):
    problem = Signal(str)  # emitted from any thread; delivered queued to the GUI
    resolved = Signal()

    def __init__(self, store: SessionStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.recorder: SessionRecorder | None = None
        self._finalised_at: dict[int, float] = {}
        self._prompt = ""
        self._prompt_of: dict[int, str] = {}  # the prompt each turn was asked with

    def begin(self, meta: SessionMeta) -> bool:
        self._finalised_at.clear()
        self._prompt_of.clear()
        self._prompt = meta.prompt
        try:
            self.recorder = self.store.create(meta, on_error=self.problem.emit,
                                              on_resolved=self.resolved.emit)
        except (SessionError, OSError) as exc:
            log.error("session folder not created: %s", exc)
            self.recorder = None
            self.problem.emit(f"This session is not being saved: {exc}")
            return False
        log.info("recording to %s", self.recorder.folder)
        return True

    def write_audio(self, frame: bytes) -> None:
        """Called on the capture thread for every frame; never raises."""
        recorder = self.recorder
        if recorder is not None:
            recorder.write_audio(frame)

    def write_system_audio(self, frame: bytes) -> None:
        """A call's other stream, on its capture thread; never raises."""
        recorder = self.recorder
        if recorder is not None:
            recorder.write_system_audio(frame)

    def withdraw_turn(self, order: int) -> None:
        """A turn saved earlier turned out to be an echo of the other side of a call."""
        if self.recorder is not None:
            self.recorder.add_turn(TurnRecord(turn_order=order, text=""))

    def add_turn(self, turn: TranscriptTurn) -> None:
        if self.recorder is None:
            return
        self._finalised_at.setdefault(turn.order, time.monotonic())
        self._prompt_of.setdefault(turn.order, self._prompt)
        words = tuple(WordRecord(w.text, w.start, w.end, w.confidence) for w in turn.words)
        when = {"wall_time": turn.finalised_at} if turn.finalised_at else {}
        self.recorder.add_turn(TurnRecord(turn_order=turn.order, text=turn.text, words=words,
                                          speaker=turn.speaker, **when))

    def set_title(self, title: str) -> None:
        if self.recorder is not None:
            self.recorder.set_title(title)

    def set_prompt(self, name: str) -> None:
        """The prompt changed mid-session: the next turns' answers are recorded with it."""
        self._prompt = name

    def add_answer(self, answer: TurnAnswer, model: str) -> None:
        if self.recorder is None:
            return
        since = self._finalised_at.get(answer.turn_order)
        latency = round((time.monotonic() - since) * 1000) if since is not None else None
        prompt = self._prompt_of.get(answer.turn_order, self._prompt)
        self.recorder.add_answer(AnswerRecord(
            turn_order=answer.turn_order, prompt=prompt, model=answer.model or model,
            answer=answer.text, usage=answer.usage, latency_ms=latency, error=answer.error))

    def finish(self, transcribed_until_ms: int | None = None) -> str | None:
        """Close the session on disk (incomplete when the transcript stops at
        `transcribed_until_ms`); the folder, or None when it was not saved."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        try:
            recorder.finish(transcribed_until_ms)
        except SessionError as exc:
            self.problem.emit(f"The session could not be completed on disk: {exc}. What was "
                              "written is kept and will be recovered at the next start.")
        return str(recorder.folder)

    def discard(self) -> None:
        """A session that never started (no connection, next to no audio): leave nothing in
        the library."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        try:
            recorder.finish()
            self.store.delete(recorder.folder)
            log.info("discarded %s: the session never started", recorder.folder)
        except (SessionError, OSError) as exc:
            log.warning("could not discard %s: %s", recorder.folder, exc)
