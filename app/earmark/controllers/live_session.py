"""The live session: starts the capture and streaming workers on their threads, turns their
signals into transcript and answer cards, and ends the session cleanly.

Stop is Terminate, then wait for Termination and the close, bounded at 5 s by a timer (never a
sleep): the UI stays responsive and whatever the server has sent is kept.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal

from ..core.audio import duration_ms
from ..core.clock import format_clock
from ..core.protocol import (
    Begin,
    Endpoint,
    ForceEndpoint,
    LLMGatewayResponse,
    ServerError,
    ServerWarning,
    StreamingParams,
    Terminate,
    Termination,
    Timeline,
    Turn,
)
from ..core.session import SessionMeta, SessionRecorder, SessionStore
from ..core.turns import TranscriptTurn, TurnAnswer, TurnAssembler, TurnChange
from ..workers.audio_capture import AudioCaptureWorker
from ..workers.audio_sources import AudioSource
from .card_model import Card, CardListModel, CardState
from .session_recording import SessionRecording
from .stream_link import StreamLink

log = logging.getLogger(__name__)

TERMINATION_TIMEOUT_MS = 5000
RETIRED_ANSWER_WAIT_MS = 30_000  # after a prompt change, the old connection's last answers


class SessionState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    STOPPING = "stopping"


@dataclass(frozen=True, slots=True)
class SessionConfig:
    endpoint: Endpoint
    params: StreamingParams
    engine_label: str
    make_source: Callable[[], AudioSource]
    prompt_name: str = ""
    title: str = ""  # the session's title on disk; the prompt's name when empty

    @property
    def llm_model(self) -> str | None:
        return self.params.llm_gateway.model if self.params.llm_gateway else None


class LiveSessionController(QObject):
    state_changed = Signal(str)  # SessionState
    connection_changed = Signal(str)  # a short phrase: "Connecting to …", "Connected", …
    session_id_changed = Signal(str)
    level_changed = Signal(float)
    problem = Signal(str)  # something the user must read; the session may go on
    notice = Signal(str)  # transient information
    session_ended = Signal(str)  # a summary sentence for the status bar
    storage_problem = Signal(str)  # the session cannot be saved (for now); it goes on
    storage_recovered = Signal()
    input_warning = Signal(str)  # silence or clipping at a live input
    input_recovered = Signal()
    progress = Signal(int, int)  # a file source: ms delivered, ms in all

    def __init__(self, store: SessionStore | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recording = SessionRecording(store, self) if store is not None else None
        if self.recording is not None:
            self.recording.problem.connect(self.storage_problem)
            self.recording.resolved.connect(self.storage_recovered)
            self.recording.resolved.connect(
                lambda: self.notice.emit("Saving works again; nothing was lost."))
        self.saved_folder: str | None = None
        # the finished session's recorder: it still takes the analysis (set_analysis)
        self.finished_recorder: SessionRecorder | None = None
        self.transcript = CardListModel(self)
        self.answers = CardListModel(self)
        self.assembler = TurnAssembler()
        self.state = SessionState.IDLE
        self.session_id = ""
        self._config: SessionConfig | None = None
        self._capture: AudioCaptureWorker | None = None
        self._capture_thread: QThread | None = None
        self._stream: StreamLink | None = None  # the link that gets the audio
        self._retired: list[StreamLink] = []  # earlier links still delivering answers
        self._closed_links_sent = 0  # audio bytes the retired links that closed had sent
        self._audio_lock = threading.RLock()  # the capture thread sends, the GUI switches links
        self._audio_bytes = 0
        # a prompt change waiting for the turn in progress to end: the parameters and its name
        self._pending_prompt: tuple[StreamingParams, str] | None = None
        self._termination: Termination | None = None
        self._close_sentence = ""
        self._aborted = False
        self._started_at = 0.0
        self._captured_ms = 0
        self._stop_timer = QTimer(self, singleShot=True, interval=TERMINATION_TIMEOUT_MS)
        self._stop_timer.timeout.connect(self._on_stop_timeout)

    # --- intents -------------------------------------------------------------------------

    def start_session(self, config: SessionConfig) -> None:
        if self.state != SessionState.IDLE:
            return
        self._config = config
        self._termination = None
        self._aborted = False
        self._close_sentence = ""
        self._captured_ms = 0
        self._audio_bytes = 0
        self._closed_links_sent = 0
        self._pending_prompt = None
        self.session_id = ""
        self.assembler = TurnAssembler()
        self.transcript.clear()
        self.answers.clear()
        self.saved_folder = None
        self.finished_recorder = None
        if self.recording is not None:
            self.recording.begin(SessionMeta(
                title=config.title or config.prompt_name or "Session", engine=config.engine_label,
                speech_model=config.params.speech_model or "", llm_model=config.llm_model or "",
                prompt=config.prompt_name))
        self._set_state(SessionState.CONNECTING)
        self._start_streaming(config)
        self._start_capture(config)
        self._started_at = time.monotonic()

    def stop_session(self) -> None:
        """End the session gracefully: stop the audio, flush the last turn, wait for the server."""
        if self.state not in (SessionState.CONNECTING, SessionState.LIVE):
            return
        self._set_state(SessionState.STOPPING)
        self.connection_changed.emit("Finishing the last turn…")
        if self._capture is not None:
            self._capture.stop()  # _on_capture_finished sends Terminate after the last frame
        else:
            self._send_terminate()

    def set_store(self, store: SessionStore) -> None:
        """Record the next sessions in `store` (the current one finishes where it started)."""
        if self.recording is not None:
            self.recording.store = store

    @property
    def last_config(self) -> SessionConfig | None:
        """The configuration of the running or last session."""
        return self._config

    def elapsed_seconds(self) -> float:
        return time.monotonic() - self._started_at if self.state != SessionState.IDLE else 0.0

    # --- workers -------------------------------------------------------------------------

    def _start_streaming(self, config: SessionConfig, timeline: Timeline | None = None
                         ) -> StreamLink:
        link = StreamLink(config.endpoint.session_url(config.params),
                          config.endpoint.headers(), timeline, self)
        link.connecting.connect(
            lambda host: self.connection_changed.emit(f"Connecting to {host}…"))
        link.opened.connect(lambda: self.connection_changed.emit("Connected"))
        link.begin.connect(self._on_begin)
        link.turn.connect(self._on_turn)
        link.llm_response.connect(self._on_llm_response)
        link.llm_response.connect(lambda _m: self._terminate_retired_when_answered())
        link.warning.connect(self._on_warning)
        link.error.connect(self._on_server_error)
        link.termination.connect(lambda t: self._on_termination(link, t))
        link.protocol_problem.connect(self.notice)
        link.closed.connect(lambda code, sentence: self._on_link_closed(link, code, sentence))
        with self._audio_lock:
            self._stream = link
        link.start()
        return link

    def _route_audio(self, frame: bytes) -> None:
        """On the capture thread: every frame to the current link (buffered while it opens)."""
        with self._audio_lock:
            self._audio_bytes += len(frame)
            if self._stream is not None:
                self._stream.send_audio(frame)

    # --- a prompt change mid-session ---------------------------------------------------------

    def change_prompt(self, params: StreamingParams, prompt_name: str) -> None:
        """Use `params` (a new llm_gateway) from the next turn: a new connection opens between
        turns and takes the audio from there on; the old one delivers its last answers."""
        if self.state not in (SessionState.CONNECTING, SessionState.LIVE) or self._config is None:
            return
        self._pending_prompt = (params, prompt_name)
        self._switch_if_between_turns()  # else _on_turn does when the turn in progress ends

    def _switch_if_between_turns(self) -> None:
        if self._pending_prompt is None or not all(t.final for t in self.assembler.turns):
            return
        (params, prompt_name), self._pending_prompt = self._pending_prompt, None
        old = self._stream
        if old is None or self._config is None:
            return
        turns = self.assembler.turns
        first_order = turns[-1].order + 1 if turns else 0
        self._config = replace(self._config, params=params, prompt_name=prompt_name)
        if self.recording is not None:
            self.recording.set_prompt(prompt_name)
        with self._audio_lock:  # no frame is lost or sent twice across the switch
            timeline = Timeline(first_order, duration_ms(self._audio_bytes))
            old.retire(first_order - old.timeline.first_order)
            self._retired.append(old)
            self._start_streaming(self._config, timeline)
        log.info("prompt changed: a new connection from turn %d at %d ms", first_order,
                 timeline.start_ms)
        self.notice.emit(f"Prompt changed to “{prompt_name}”: it answers from turn "
                         f"{first_order + 1} on.")
        self._terminate_retired_when_answered()
        QTimer.singleShot(RETIRED_ANSWER_WAIT_MS, old, lambda: self._terminate_retired(old))

    def _terminate_retired_when_answered(self) -> None:
        if self._stream is None:
            return
        owed = {c.order for c in self.answers.cards() if c.state == CardState.PENDING}
        handed_over = self._stream.timeline.first_order
        for link in list(self._retired):
            first = link.timeline.first_order
            if not any(first <= order < handed_over for order in owed):
                self._terminate_retired(link)

    def _terminate_retired(self, link: StreamLink) -> None:
        if link in self._retired and not link.terminating:
            link.terminating = True
            if not link.send_message(Terminate()):
                link.abort()
            QTimer.singleShot(TERMINATION_TIMEOUT_MS, link, link.abort)

    def _start_capture(self, config: SessionConfig) -> None:
        worker = AudioCaptureWorker(config.make_source)
        thread = QThread(self)
        thread.setObjectName("audio-capture")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Audio goes straight from the capture thread to the socket, never through the GUI.
        worker.frame_captured.connect(self._route_audio, Qt.ConnectionType.DirectConnection)
        if self.recording is not None:
            worker.frame_captured.connect(self.recording.write_audio,
                                          Qt.ConnectionType.DirectConnection)
        worker.level_changed.connect(self.level_changed)
        worker.input_warning.connect(self.input_warning)
        worker.input_recovered.connect(self.input_recovered)
        worker.position_changed.connect(self.progress)
        worker.capture_failed.connect(self._on_capture_failed)
        worker.capture_finished.connect(self._on_capture_finished)
        self._capture, self._capture_thread = worker, thread
        thread.start()

    # --- server messages -------------------------------------------------------------------

    def _on_begin(self, begin: Begin) -> None:
        self.session_id = begin.id
        self.session_id_changed.emit(begin.id)
        if self.state == SessionState.CONNECTING:
            self._set_state(SessionState.LIVE)
        self.connection_changed.emit("Live")

    def _on_turn(self, message: Turn) -> None:
        change, turn = self.assembler.apply(message)
        if change == TurnChange.IGNORED:
            return
        if self.recording is not None and change in (TurnChange.FINALISED, TurnChange.FORMATTED):
            self.recording.add_turn(turn)  # on disk before on screen: a crash loses neither
        self.transcript.upsert(self._turn_card(turn))
        if change == TurnChange.FINALISED and self._config and self._config.llm_model \
                and self.answers.row_of(turn.order) is None:
            self.answers.upsert(Card(turn.order, f"Turn {turn.order + 1}", "Thinking…",
                                     CardState.PENDING, self._config.llm_model))
        if change == TurnChange.FINALISED:
            self._switch_if_between_turns()

    def _on_llm_response(self, message: LLMGatewayResponse) -> None:
        answer = TurnAnswer.from_message(message)
        self.assembler.add_answer(answer)
        self.answers.upsert(self._answer_card(answer))
        # A server that falls behind answers several turns at once, tagged with the last one.
        for card in self.answers.cards():
            if card.state == CardState.PENDING and card.order < answer.turn_order:
                self.answers.upsert(Card(card.order, card.title,
                                         f"Answered together with turn {answer.turn_order + 1}.",
                                         CardState.FINAL, card.meta))
        if self.recording is not None:
            self.recording.add_answer(answer, self._config.llm_model if self._config else "")
        if answer.error:
            self.notice.emit(f"No answer for turn {answer.turn_order + 1}: {answer.error}")

    def _on_warning(self, warning: ServerWarning) -> None:
        self.notice.emit(f"Server warning: {warning.warning}")

    def _on_server_error(self, error: ServerError) -> None:
        log.error("session error %s", error.error_code)

    def _on_termination(self, link: StreamLink, termination: Termination) -> None:
        if link is self._stream:  # a retired link's Termination ends only that connection
            self._termination = termination

    # --- ends --------------------------------------------------------------------------------

    def _on_capture_failed(self, sentence: str) -> None:
        self.problem.emit(sentence)

    def _on_capture_finished(self, captured_ms: int) -> None:
        self._captured_ms = captured_ms
        if self._capture_thread is not None:
            self._capture_thread.quit()
        if self.state in (SessionState.CONNECTING, SessionState.LIVE):
            # the source ended by itself (a file, or a failed microphone): finish cleanly
            self._set_state(SessionState.STOPPING)
        if self.state == SessionState.STOPPING:
            self._send_terminate()

    def _send_terminate(self) -> None:
        self._pending_prompt = None  # the session ends: no prompt change is pending
        for link in list(self._retired):
            self._terminate_retired(link)
        if self._stream is None:
            self._finish()
            return
        self._stream.send_message(ForceEndpoint())
        if not self._stream.send_message(Terminate()):
            self._stream.abort()
        self._stop_timer.start()

    def _on_stop_timeout(self) -> None:
        log.warning("no Termination within %d ms; closing", TERMINATION_TIMEOUT_MS)
        self._close_sentence = "The server did not confirm the end of the session in 5 s."
        self._aborted = True
        if self._stream is not None:
            self._stream.abort()

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """End everything now (window closing, app quitting): stop capture, drop the socket,
        wait for both threads within `timeout_ms`, and keep what was recorded."""
        if self.state == SessionState.IDLE:
            return
        self._aborted = True
        if self._capture is not None:
            self._capture.stop()
        for link in self._links():
            link.abort()
        if self._capture_thread is not None:
            self._capture_thread.quit()
            self._capture_thread.wait(timeout_ms)
        for link in self._links():
            link.wait(timeout_ms)
        self._finish()

    def _links(self) -> list[StreamLink]:
        return [*self._retired, *([self._stream] if self._stream is not None else [])]

    def _on_link_closed(self, link: StreamLink, code: int, sentence: str) -> None:
        if link is not self._stream:  # a retired link has delivered its last answers
            log.info("the previous connection closed (%s)", code)
            if link in self._retired:
                self._retired.remove(link)
                self._closed_links_sent += link.audio_bytes_sent
            link.wait(2000)
            link.deleteLater()
            return
        self._on_stream_closed(code, sentence)

    def _on_stream_closed(self, code: int, sentence: str) -> None:
        expected = self._aborted or (self.state == SessionState.STOPPING
                                     and code in (0, 1000) and self._termination is not None)
        if not expected and code != 1000:
            self.problem.emit(sentence)
            self._close_sentence = self._close_sentence or sentence
        if self._capture is not None and self.state != SessionState.STOPPING:
            self._set_state(SessionState.STOPPING)
            self._capture.stop()  # the transcript stays; capture ends, then _finish
        if self._capture is None or not self._capture_thread.isRunning():
            self._finish()
        else:
            self._capture_thread.finished.connect(
                self._finish, Qt.ConnectionType.SingleShotConnection)

    def _finish(self) -> None:
        if self.state == SessionState.IDLE:
            return
        self._stop_timer.stop()
        if self._capture_thread is not None:
            self._capture_thread.quit()
            self._capture_thread.wait(2000)
        links = self._links()
        for link in links:
            if link.retired:
                link.abort()
            link.wait(2000)
        sent_ms = duration_ms(self._closed_links_sent
                              + sum(link.audio_bytes_sent for link in links))
        if self._stream is not None and self._stream.continues_a_session:
            self._termination = None  # its audio count covers only its part of the session
        with self._audio_lock:
            self._stream = None
        self._retired = []
        self._capture = self._capture_thread = None
        if self.recording is not None:
            recorder = self.recording.recorder
            self.saved_folder = self.recording.finish()
            self.finished_recorder = recorder if self.saved_folder else None
        self._set_state(SessionState.IDLE)
        self.connection_changed.emit("Disconnected")
        self.session_ended.emit(self._summary(sent_ms))

    def _summary(self, sent_ms: int) -> str:
        t = self._termination
        audio_s = t.audio_duration_seconds if t and t.audio_duration_seconds is not None \
            else round(sent_ms / 1000)
        turns = len(self.assembler.final_turns)
        text = f"Session ended: {audio_s} s of audio processed, {turns} turn{'s' * (turns != 1)}."
        return f"{text} {self._close_sentence}" if self._close_sentence else text

    # --- cards -------------------------------------------------------------------------------

    @staticmethod
    def _turn_card(turn: TranscriptTurn) -> Card:
        state = CardState.FINAL if turn.final else CardState.PROVISIONAL
        title = f"Turn {turn.order + 1}"
        if turn.speaker:
            title += f" · Speaker {turn.speaker}"
        return Card(turn.order, title, turn.text or "…", state, format_clock(turn.start_ms))

    def _answer_card(self, answer: TurnAnswer) -> Card:
        model = answer.model or (self._config.llm_model if self._config else "") or ""
        if answer.error:
            return Card(answer.turn_order, f"Turn {answer.turn_order + 1}",
                        f"No answer: {answer.error}", CardState.ERROR, model)
        return Card(answer.turn_order, f"Turn {answer.turn_order + 1}",
                    answer.text.strip() or "(empty answer)", CardState.FINAL, model)

    def _set_state(self, state: SessionState) -> None:
        self.state = state
        self.state_changed.emit(state.value)
