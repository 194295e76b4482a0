"""One session being recorded: audio, turns and answers go to disk as they arrive."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from .errors import StorageError
from .jsonl import JsonlAppender
from .lock import RecordingLock
from .metafile import write_meta
from .paths import AUDIO_FILE, LLM_FILE, SYSTEM_AUDIO_FILE, TRANSCRIPT_FILE
from .records import (
    Analysis,
    AnswerRecord,
    SessionData,
    SessionMeta,
    SessionStatus,
    TurnRecord,
    latest_turns,
    now,
)
from .wav_writer import WavWriter

ErrorCallback = Callable[[str], None]
ResolvedCallback = Callable[[], None]


class SessionRecorder:
    """Made by `SessionStore.create`. Thread-safe.

    Nothing here raises into the caller because of the disk: a failed write keeps the data in
    memory, sets `last_error`, calls `on_error(message)` once per kind of failure, and is
    retried on the next write and every `sync_interval` s by a background thread; when everything
    is on disk again `last_error` goes back to None and `on_resolved()` is called. Callbacks
    run on whichever thread hit the problem (the audio thread included): hand them to the GUI
    thread (a queued Qt signal) and keep them short.
    """

    def __init__(self, folder: Path, meta: SessionMeta, lock: RecordingLock, *,
                 on_error: ErrorCallback | None = None,
                 on_resolved: ResolvedCallback | None = None,
                 sync_interval: float = 0.5) -> None:
        """Use SessionStore.create; `folder` exists and holds session.json, `lock` is held."""
        self._folder = folder
        self._meta = meta
        self._lock_file = lock
        self.on_error = on_error
        self.on_resolved = on_resolved
        self._sync_interval = sync_interval
        self._lock = threading.RLock()
        self._error_lock = threading.Lock()  # the audio thread takes only this one (on errors)
        self._turns: list[TurnRecord] = []
        self._answers: list[AnswerRecord] = []
        self._meta_dirty = False
        self._stopping = False
        self._finished = False
        self._last_error: str | None = None
        self._announced: set[tuple[object, ...]] = set()  # problems already told, until fixed
        self._error_log: collections.deque[tuple[datetime, str]] = collections.deque(maxlen=100)
        self._transcript = JsonlAppender(folder / TRANSCRIPT_FILE)
        self._llm = JsonlAppender(folder / LLM_FILE)
        (folder / TRANSCRIPT_FILE).touch()
        (folder / LLM_FILE).touch()
        self._wav = WavWriter(folder / AUDIO_FILE)
        self._system_wav: WavWriter | None = None  # a call's second stream, when it has one
        self._stop_sync = threading.Event()
        self._sync_thread: threading.Thread | None = None
        self._start_sync_thread()

    # --- state -----------------------------------------------------------------------------

    @property
    def folder(self) -> Path:
        return self._folder

    @property
    def meta(self) -> SessionMeta:
        """The metadata as it stands now (duration and turn count up to date)."""
        with self._lock:
            return dataclasses.replace(self._meta, audio_duration_ms=self._wav.duration_ms,
                                       turn_count=len(latest_turns(self._turns)))

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def last_error(self) -> str | None:
        """The current disk problem, in words; None when everything is on disk."""
        return self._last_error

    @property
    def error_log(self) -> list[tuple[datetime, str]]:
        """Every problem met so far (the last 100), oldest first."""
        return list(self._error_log)

    @property
    def pending(self) -> bool:
        """True while some audio, turn, answer or metadata waits in memory for the disk."""
        return bool(any(wav.pending_bytes for wav in self._wavs())
                    or self._transcript.pending_count
                    or self._llm.pending_count or self._meta_dirty)

    @property
    def audio_duration_ms(self) -> int:
        return self._wav.duration_ms

    # --- writes ----------------------------------------------------------------------------

    def write_audio(self, pcm: bytes) -> None:
        """Append 16 kHz mono PCM16. For the audio thread: cheap, and never raises.
        Audio arriving after `finish` is ignored."""
        self._write(self._wav, pcm)

    def write_system_audio(self, pcm: bytes) -> None:
        """A call's other stream (what the speakers play), into its own WAV; as write_audio."""
        if self._system_wav is None:
            path = self._folder / SYSTEM_AUDIO_FILE
            try:
                with self._lock:
                    if self._system_wav is None:
                        self._system_wav = WavWriter(path)
            except OSError as exc:  # nothing may escape into the audio thread; tried again
                self._report(StorageError.from_os_error(exc, "Cannot create", path))
                return
        self._write(self._system_wav, pcm)

    def _write(self, wav: WavWriter, pcm: bytes) -> None:
        if self._stopping:
            return
        try:
            wav.write(pcm)
        except StorageError as exc:
            self._report(exc)
        except Exception as exc:  # nothing may escape into the audio thread
            self._report(exc)

    def _wavs(self) -> list[WavWriter]:
        return [self._wav, *([self._system_wav] if self._system_wav is not None else [])]

    def add_turn(self, turn: TurnRecord) -> bool:
        """Save a final turn (fsynced). Adding a turn_order again replaces that turn (a
        revision). Returns False when it is kept in memory for now (see `last_error`)."""
        with self._lock:
            self._turns.append(turn)
            self._meta_dirty = self._meta_dirty or self._finished  # turn_count changed
            self._transcript.queue(turn.to_dict())
        self._flush()
        return self._transcript.pending_count == 0

    def add_answer(self, answer: AnswerRecord) -> bool:
        """Save an LLM answer (or failed call). Works after `finish` too, for late answers."""
        with self._lock:
            self._answers.append(answer)
            self._llm.queue(answer.to_dict())
        self._flush()
        return self._llm.pending_count == 0

    def set_analysis(self, analysis: Analysis | None) -> bool:
        """Store the whole-session analysis in session.json (also after `finish`)."""
        return self._update_meta(analysis=analysis)

    def set_title(self, title: str) -> bool:
        """Rename the session while it records (the folder keeps its name)."""
        return self._update_meta(title=title)

    def set_speakers(self, names: dict[str, str]) -> bool:
        """The names the user gave the speaker labels ("B" -> "Dana")."""
        return self._update_meta(speakers=dict(names))

    def _update_meta(self, **changes: object) -> bool:
        with self._lock:
            self._meta = dataclasses.replace(self._meta, **changes)
            self._meta_dirty = True
        self._flush()
        return not self._meta_dirty

    def finish(self, transcribed_until_ms: int | None = None) -> SessionMeta:
        """Stop: write what is left, the final WAV header, ended_at and status "complete", or
        "incomplete" when `transcribed_until_ms` says the transcript stops short of the audio.

        Raises StorageError if some of it still cannot be written; nothing is lost then (it is
        kept in memory, retried in the background, and `snapshot()` can export it): call
        `finish` again later. Calling it after success is harmless.
        """
        with self._lock:
            self._stopping = True
            if self._meta.ended_at is None:
                self._meta = dataclasses.replace(self._meta, ended_at=now())
        self._stop_sync_thread()
        error: StorageError | None = None
        for step in (*(wav.close for wav in self._wavs()), self._transcript.retry,
                     self._llm.retry):
            try:
                step()
            except StorageError as exc:
                error = error or exc
        if error is None:
            with self._lock:
                status = SessionStatus.COMPLETE if transcribed_until_ms is None \
                    else SessionStatus.INCOMPLETE
                self._meta = dataclasses.replace(self.meta, status=status,
                                                 transcribed_until_ms=transcribed_until_ms)
                self._meta_dirty = True
                try:
                    self._write_meta_if_dirty()
                    self._finished = True
                except StorageError as exc:
                    error = exc
        if error is not None:
            self._report(error)
            self._start_sync_thread()
            raise StorageError(
                f"{error} The session is not fully saved yet; it stays in memory and Earmark "
                "keeps trying. Free some space, then stop again or export the session.",
                path=error.path, errno_=error.errno) from error
        self._lock_file.release()
        self._resolve_if_clear()
        return self.meta

    def snapshot(self) -> SessionData:
        """Everything recorded so far as plain data (for exporting, even if the disk failed)."""
        with self._lock:
            return SessionData(self.meta, latest_turns(self._turns), tuple(self._answers))

    def abandon(self) -> None:
        """Stop without finishing (for tests and fatal errors): the session stays "recording"
        on disk and is repaired by `recover_interrupted` on the next launch."""
        self._stopping = True
        self._stop_sync_thread()
        for wav in self._wavs():
            wav.abandon()
        self._lock_file.release(remove=False)

    # --- internals -------------------------------------------------------------------------

    def _flush(self) -> bool:
        """Write everything queued, each part on its own (a stuck audio backlog must not keep
        a turn from its file); report the first failure. True when all of it is on disk."""
        error: BaseException | None = None
        for step in self._flush_steps():
            try:
                step()
            except StorageError as exc:
                error = error or exc
            except Exception as exc:  # never let one part stop the others (or a thread)
                error = error or exc
        if error is not None:
            self._report(error)
            return False
        self._resolve_if_clear()
        return True

    def _flush_steps(self) -> list[Callable[[], None]]:
        steps: list[Callable[[], None]] = [self._transcript.retry, self._llm.retry,
                                           self._write_meta_locked]
        return [wav.write_pending for wav in self._wavs() if not wav.closed] + steps

    def _write_meta_locked(self) -> None:
        with self._lock:
            self._write_meta_if_dirty()

    def _write_meta_if_dirty(self) -> None:
        if self._meta_dirty:
            write_meta(self._folder, self.meta)
            self._meta_dirty = False

    def _maintain(self) -> None:
        """Once per sync interval: retry the backlog, then fsync the audio."""
        if self._flush():
            for wav in self._wavs():
                try:
                    wav.sync()
                except StorageError as exc:
                    self._report(exc)

    def _sync_loop(self) -> None:
        while not self._stop_sync.wait(self._sync_interval):
            self._maintain()

    def _start_sync_thread(self) -> None:
        self._stop_sync.clear()
        self._sync_thread = threading.Thread(
            target=self._sync_loop, name=f"earmark-session-sync:{self._folder.name}",
            daemon=True)
        self._sync_thread.start()

    def _stop_sync_thread(self) -> None:
        self._stop_sync.set()
        thread, self._sync_thread = self._sync_thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _report(self, exc: BaseException) -> None:
        message = str(exc) or type(exc).__name__
        key = (type(exc), getattr(exc, "path", None), getattr(exc, "errno", None))
        with self._error_lock:
            self._last_error = message
            self._error_log.append((now(), message))
            announce = key not in self._announced
            self._announced.add(key)
        if announce and self.on_error is not None:
            with contextlib.suppress(Exception):  # a broken callback must not stop recording
                self.on_error(message)

    def _resolve_if_clear(self) -> None:
        with self._error_lock:
            if self._last_error is None or self.pending:
                return
            self._last_error = None
            self._announced.clear()
        if self.on_resolved is not None:
            with contextlib.suppress(Exception):
                self.on_resolved()

