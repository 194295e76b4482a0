"""The live session: starts the capture and streaming workers on their threads, turns their
signals into transcript and answer cards, and ends the session without losing a word.

Its states and their transitions are the table in `core/session_lifecycle.py`. Captured audio
goes through an `AudioFeeder` that keeps what no server has finalised yet, so a connection
that drops (a network error, a stalled or restarted server) is replaced by a new one that
hears that audio again: capture and recording never stop, turn numbers and times continue.
Stop waits for `Termination` for as long as the server keeps sending; only silence times out.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal

from ..core.audio import duration_ms
from ..core.backoff import Backoff
from ..core.clock import format_clock
from ..core.grounded_prompts import with_speaker_names
from ..core.protocol import (
    Begin,
    CloseCode,
    Endpoint,
    ForceEndpoint,
    LLMGatewayResponse,
    ServerError,
    ServerWarning,
    SpeakerRevision,
    StreamingParams,
    Terminate,
    Termination,
    Timeline,
    Turn,
    TurnNumbers,
    worth_retrying,
)
from ..core.protocol.configuration import applied_model, describe_configuration
from ..core.session import SessionMeta, SessionRecorder, SessionStore
from ..core.session.speakers import YOU, title_from_words
from ..core.session_lifecycle import ACTIVE, SessionEvent, SessionState, next_state
from ..core.speech_coverage import SpeechCoverage
from ..core.turns import TurnAnswer, TurnAssembler, TurnChange
from ..workers.audio_capture import AudioCaptureWorker
from ..workers.audio_feeder import AudioFeeder
from .call_streams import CallStreams
from .card_model import CardListModel
from .session_cards import settle_cards
from .session_config import SessionConfig
from .session_recording import SessionRecording
from .stream_link import StreamLink
from .turn_cards import TurnCards

log = logging.getLogger(__name__)

__all__ = ["LiveSessionController", "SessionConfig", "SessionState"]

STOP_SILENCE_MS = 10_000  # after Terminate: how long the server may send nothing at all
STALL_S = 10.0  # a server that reports its progress and then says nothing this long is stuck
RETIRED_ANSWER_WAIT_MS = 30_000  # after a prompt change, the old connection's last answers
TERMINATE_RETIRED_MS = 5000
MAX_BACKLOG_MS = 10 * 60_000  # audio kept for a new connection (10 min: 19 MB)
FLOW_AHEAD_MS = 5000  # a file runs at most this far ahead of what the engine has processed
REPLAY_MARGIN_MS = 100  # a new connection hears from just after the last final word
DISCARD_BELOW_MS = 3000  # a start that never connected, with less audio, leaves no session
NOTICE_CHARS = 200  # a server's text in the status bar

def _one_server_message(handler: Callable[..., None]) -> Callable[..., None]:
    """Last line of defence for the handler of one server message (its last argument): a bug
    costs that message (logged with its type and the exception), never the session or what
    is on screen."""
    @functools.wraps(handler)
    def guarded(self: Any, *args: Any) -> None:
        try:
            handler(self, *args)
        except Exception:
            log.exception("a %s message could not be handled; the session goes on",
                          type(args[-1]).__name__)
    return guarded


def _short(text: str) -> str:
    return text if len(text) <= NOTICE_CHARS else f"{text[:NOTICE_CHARS]}…"


class LiveSessionController(QObject):
    state_changed = Signal(str)  # SessionState
    connection_changed = Signal(str)  # a short phrase: "Connecting to …", "Connected", …
    link_notice = Signal(str, str)  # kind ("warning", "info", ""), text: reconnections
    configuration_applied = Signal(str)  # what the server says it runs (Begin.configuration)
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
    turn_updated = Signal(object)  # TranscriptTurn: a turn as the server last sent it
    _drained = Signal()  # from the feeder thread: everything captured was sent

    def __init__(self, store: SessionStore | None = None, parent: QObject | None = None, *,
                 recording: SessionRecording | None = None,
                 cards: tuple[CardListModel, CardListModel] | None = None) -> None:
        """`recording` and `cards`: a call's second stream saves into and shows in the
        first stream's session (controllers/call_streams.py)."""
        super().__init__(parent)
        self.recording = recording or (SessionRecording(store, self) if store is not None
                                       else None)
        if self.recording is not None:
            self.recording.problem.connect(self.storage_problem)
            self.recording.resolved.connect(self.storage_recovered)
            self.recording.resolved.connect(
                lambda: self.notice.emit("Saving works again; nothing was lost."))
        self.saved_folder: str | None = None
        # the finished session's recorder: it still takes the analysis (set_analysis)
        self.finished_recorder: SessionRecorder | None = None
        self._owns_cards = cards is None
        self.transcript, self.answers = cards or (CardListModel(self), CardListModel(self))
        self.cards = TurnCards(self.transcript, self.answers)
        self.cards.recording = self.recording
        self.assembler = TurnAssembler()
        self.state = SessionState.IDLE
        self.session_id = ""
        self.complete = True  # the last session's transcript covers all of its audio
        # a call (controllers/call_streams.py): the other stream, shared turn numbers and the
        # label of this stream's turns
        self.call: CallStreams | None = None
        self._numbers: TurnNumbers | None = None
        self._speaker: str | None = None
        self._config: SessionConfig | None = None
        self._capture: AudioCaptureWorker | None = None
        self._capture_thread: QThread | None = None
        self._feeder: AudioFeeder | None = None
        self._stream: StreamLink | None = None  # the link that gets the audio
        self._retired: list[StreamLink] = []  # earlier links still delivering answers
        self._closed_links_sent = 0  # audio bytes the links that closed had sent
        self._audio_lock = threading.RLock()  # the capture thread sends, the GUI switches links
        # a prompt change waiting for the turn in progress to end: the parameters, its name and
        # what to tell the user when it applies
        self._pending_prompt: tuple[StreamingParams, str, str] | None = None
        self._termination: Termination | None = None
        self._terminate_sent = False
        self._close_sentence = ""
        self._aborted = False
        self._failed = False
        self._ever_opened = False
        self._finalised_ms = 0  # the session audio up to here is in final turns
        self._lost_ms = 0  # audio a new connection could not be sent again
        self._last_processed_ms = 0  # the furthest a Heartbeat has reported
        self._source_cut_short = False  # a recording could not be read to its end
        self._titled = False  # the session took its first words as its title
        self._position_ms = 0  # a recording: how far it has been read
        self._coverage = SpeechCoverage()  # speech the server heard, to check the turns
        self._dropped_at = 0.0
        self._started_at = 0.0
        self._backoff = Backoff()
        self._reconnect_timer = QTimer(self, singleShot=True)
        self._reconnect_timer.timeout.connect(self._reconnect)
        self._watch_timer = QTimer(self, interval=1000)
        self._watch_timer.timeout.connect(self._watch)
        self._stop_timer = QTimer(self, singleShot=True, interval=STOP_SILENCE_MS)
        self._stop_timer.timeout.connect(self._on_stop_silence)
        self._drained.connect(self._send_terminate)

    # --- intents -------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """A session is running (connecting, live, reconnecting or stopping)."""
        return self.state in ACTIVE

    def start_session(self, config: SessionConfig, *, numbers: TurnNumbers | None = None) -> None:
        """Start; `numbers`: this is a call's second stream, numbering its turns with the
        first's."""
        if self.active:
            return
        self._reset(config)
        if config.system_source is not None:
            numbers, self._speaker = TurnNumbers(), YOU
            self.call = CallStreams(self, config)
            config = self._config = self.call.microphone_config(config)
        self._numbers = numbers
        if self.recording is not None:
            self.recording.begin(SessionMeta(
                title=config.title or "Session", engine=config.engine_label,
                speech_model=config.params.speech_model or "", llm_model=config.llm_model or "",
                prompt=config.prompt_name))
        self._fire(SessionEvent.START)
        self._feeder = AudioFeeder(max_backlog_ms=MAX_BACKLOG_MS, realtime_only=not config.local,
                                   max_ahead_ms=FLOW_AHEAD_MS if config.local else None,
                                   may_block=config.from_file)
        self._start_streaming(config, self._timeline())
        self._start_capture(config)
        self._started_at = time.monotonic()
        self._watch_timer.start()
        if self.call is not None:
            self.call.start(numbers)

    def stop_session(self) -> None:
        """End the session gracefully: stop the audio, send what is left, flush the last turn,
        wait for the server."""
        if self.state not in (SessionState.CONNECTING, SessionState.LIVE,
                              SessionState.RECONNECTING):
            return
        self._fire(SessionEvent.STOP)
        self.connection_changed.emit("Finishing the last turn…")
        if self.call is not None:
            self.call.stop()
        if self._capture is not None:
            self._capture.stop()  # _on_capture_finished sends Terminate once all is sent
        else:
            self._when_sent_terminate()

    def set_store(self, store: SessionStore) -> None:
        """Record the next sessions in `store` (the current one finishes where it started)."""
        if self.recording is not None:
            self.recording.store = store

    @property
    def last_config(self) -> SessionConfig | None:
        """The configuration of the running or last session."""
        return self._config

    def elapsed_seconds(self) -> float:
        """The session's clock: for a recording, the position in the file; else wall time."""
        if not self.active:
            return 0.0
        if self._config is not None and self._config.from_file:
            return self._position_ms / 1000
        return time.monotonic() - self._started_at

    def _reset(self, config: SessionConfig) -> None:
        self._config = config
        self._termination = None
        self._terminate_sent = self._aborted = self._failed = self._ever_opened = False
        self._close_sentence = ""
        self._closed_links_sent = self._finalised_ms = self._lost_ms = 0
        self._last_processed_ms = self._position_ms = 0
        self._coverage = SpeechCoverage()
        self._source_cut_short = self._titled = False
        self._pending_prompt = None
        self._backoff = Backoff(give_up_after_s=config.retry_for_s)
        self.complete = True
        self.session_id = ""
        self.assembler = TurnAssembler()
        if self.call is not None:
            self.call.deleteLater()
        self.call, self._numbers, self._speaker = None, None, None
        self.cards.reset(clear=self._owns_cards)
        self.saved_folder = None
        self.finished_recorder = None

    def _fire(self, event: SessionEvent) -> None:
        state = next_state(self.state, event)
        if state != self.state:
            log.info("session %s -> %s (%s)", self.state.value, state.value, event.value)
            self.state = state
            self.state_changed.emit(state.value)

    # --- workers -------------------------------------------------------------------------

    def _start_streaming(self, config: SessionConfig, timeline: Timeline,
                         endpoint: Endpoint | None = None) -> StreamLink:
        endpoint = endpoint or config.endpoint
        params = replace(config.params, session_heartbeat=True)
        link = StreamLink(endpoint.session_url(params), endpoint.headers(), timeline, self)
        link.connecting.connect(
            lambda host: self.connection_changed.emit(f"Connecting to {host}…"))
        link.opened.connect(lambda: self._on_link_opened(link))
        link.begin.connect(self._on_begin)
        link.turn.connect(lambda message: self._on_turn(link, message))
        link.llm_response.connect(self._on_llm_response)
        link.llm_response.connect(lambda _m: self._terminate_retired_when_answered())
        link.speaker_revision.connect(self._on_speaker_revision)
        if self._feeder is not None:
            link.processed.connect(self._feeder.acknowledge, Qt.ConnectionType.DirectConnection)
        link.warning.connect(self._on_warning)
        link.error.connect(self._on_server_error)
        link.termination.connect(lambda t: self._on_termination(link, t))
        link.protocol_problem.connect(self.notice)
        link.closed.connect(lambda code, sentence: self._on_link_closed(link, code, sentence))
        for signal in (link.turn, link.llm_response, link.termination, link.begin):
            signal.connect(lambda *_: self._on_server_progress(link))
        link.processed.connect(lambda ms: self._on_server_progress(link, ms),
                               Qt.ConnectionType.QueuedConnection)
        link.speech_probability.connect(self._coverage.heard, Qt.ConnectionType.QueuedConnection)
        with self._audio_lock:
            self._stream = link
        link.start()
        return link

    def _timeline(self, first_order: int = 0, start_ms: int = 0) -> Timeline:
        numbers = self._numbers.for_connection() if self._numbers is not None else None
        return Timeline(first_order, start_ms, numbers, self._speaker)

    def _on_link_opened(self, link: StreamLink) -> None:
        if link is self._stream and self._feeder is not None:
            self._feeder.attach(link.send_audio, link.timeline.start_ms)
            self.connection_changed.emit("Connected")

    def _route_audio(self, frame: bytes) -> None:
        """On the capture thread: every frame to the feeder (a file may wait there)."""
        feeder = self._feeder
        if feeder is not None:
            feeder.push(frame)

    def _start_capture(self, config: SessionConfig) -> None:
        worker = AudioCaptureWorker(config.make_source)
        thread = QThread(self)
        thread.setObjectName("audio-capture")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Audio goes straight from the capture thread to the feeder, never through the GUI;
        # the recording first, so a frame is on disk before anything can wait.
        if self.recording is not None:
            worker.frame_captured.connect(self.recording.write_audio,
                                          Qt.ConnectionType.DirectConnection)
        worker.frame_captured.connect(self._route_audio, Qt.ConnectionType.DirectConnection)
        worker.level_changed.connect(self.level_changed)
        worker.input_warning.connect(self.input_warning)
        worker.input_recovered.connect(self.input_recovered)
        worker.position_changed.connect(self.progress)
        worker.position_changed.connect(self._on_position)
        worker.capture_failed.connect(self._on_capture_failed)
        worker.capture_finished.connect(self._on_capture_finished)
        self._capture, self._capture_thread = worker, thread
        thread.start()

    # --- a prompt change mid-session ---------------------------------------------------------

    def change_prompt(self, params: StreamingParams, prompt_name: str,
                      notice: str = "Prompt changed to “{prompt}”: it answers from turn {turn} "
                                    "on.") -> None:
        """Use `params` (a new llm_gateway) from the next turn: a new connection opens between
        turns and takes the audio from there on; the old one delivers its last answers."""
        if self.state not in (SessionState.CONNECTING, SessionState.LIVE) or self._config is None:
            return
        self._pending_prompt = (params, prompt_name, notice)
        self._switch_if_between_turns()  # else _on_turn does when the turn in progress ends

    def _switch_if_between_turns(self) -> None:
        if self._pending_prompt is None or not all(t.final for t in self.assembler.turns):
            return
        (params, prompt_name, notice), self._pending_prompt = self._pending_prompt, None
        old = self._stream
        if old is None or self._config is None or self._feeder is None:
            return
        self._config = replace(self._config, params=params, prompt_name=prompt_name)
        if self.recording is not None:
            self.recording.set_prompt(prompt_name)
        first_order = self._next_order()
        with self._audio_lock:  # no frame is lost or sent twice across the switch
            self._feeder.detach()
            start_ms = self._feeder.replay_start(self._feeder.sent_ms)
            timeline = self._timeline(first_order, start_ms)
            old.retire(old.finished_turns)
            self._retired.append(old)
            self._start_streaming(self._config, timeline, self._current_endpoint())
        log.info("prompt changed: a new connection from turn %d at %d ms", first_order,
                 timeline.start_ms)
        self.notice.emit(notice.format(prompt=prompt_name, turn=first_order + 1))
        self._terminate_retired_when_answered()
        QTimer.singleShot(RETIRED_ANSWER_WAIT_MS, old, lambda: self._terminate_retired(old))

    def _terminate_retired_when_answered(self) -> None:
        if self._stream is None:
            return
        owed = self.cards.owed()
        for link in list(self._retired):
            if not owed & link.orders:
                self._terminate_retired(link)

    def _terminate_retired(self, link: StreamLink) -> None:
        if link in self._retired and not link.terminating:
            link.terminating = True
            if not link.send_message(Terminate()):
                link.abort()
            QTimer.singleShot(TERMINATE_RETIRED_MS, link, link.abort)

    def _next_order(self) -> int:
        finals = self.assembler.final_turns
        return finals[-1].order + 1 if finals else 0

    # --- server messages -------------------------------------------------------------------

    @_one_server_message
    def _on_begin(self, begin: Begin) -> None:
        self.session_id = self.session_id or begin.id
        self.session_id_changed.emit(self.session_id)
        reconnected = self.state in (SessionState.RECONNECTING, SessionState.STOPPING) \
            and self._ever_opened and self._dropped_at
        self._ever_opened = True
        self._fire(SessionEvent.OPENED)
        self.connection_changed.emit("Live")
        self._report_configuration(begin.configuration)
        if reconnected:
            self._on_reconnected()

    def _report_configuration(self, configuration: dict[str, Any] | None) -> None:
        description = describe_configuration(configuration)
        if description:
            self.configuration_applied.emit(description)
        asked = self._config.params.speech_model if self._config else None
        applied = applied_model(configuration)
        if asked and applied and applied != asked:
            log.warning("asked for speech model %s; the server runs %s", asked, applied)
            self.notice.emit(f"Asked for {asked}; the server is running {applied}.")

    @_one_server_message
    def _on_turn(self, link: StreamLink, message: Turn) -> None:
        if link is not self._stream and not link.retired:
            return  # a connection that was replaced after a drop
        change, turn = self.assembler.apply(message)
        if change == TurnChange.IGNORED:
            return
        shown = self.cards.show(turn, saved=change in (TurnChange.FINALISED,
                                                       TurnChange.FORMATTED))
        if change == TurnChange.FINALISED:
            if shown is not None:
                self._name_after_first_words(shown.text)
            self._on_final(turn.order, turn.end_ms)
        self.turn_updated.emit(turn)

    def recheck(self, since_ms: int) -> None:
        """Show again the turns that end after `since_ms` (the call's other stream has new
        words, so the echo check may come out otherwise)."""
        self.cards.recheck(reversed(self.assembler.turns), since_ms)

    def _name_after_first_words(self, text: str) -> None:
        """A session started without a title takes its first words as one (editable in the
        library), not the prompt's name: "Brief summary", "Brief summary", … said nothing."""
        if self.recording is not None and self._config is not None and not self._config.title \
                and text.strip() and not self._titled:
            self._titled = True
            self.recording.set_title(title_from_words(text))

    def _on_final(self, order: int, end_ms: int | None) -> None:
        if end_ms is not None:
            self._finalised_ms = max(self._finalised_ms, end_ms + REPLAY_MARGIN_MS)
            if self._feeder is not None:
                self._feeder.finalised(self._finalised_ms)
        self.cards.expect_answer(order, self._config.llm_model if self._config else None)
        self._switch_if_between_turns()

    @_one_server_message
    def _on_llm_response(self, message: LLMGatewayResponse) -> None:
        answer = TurnAnswer.from_message(message)
        self.assembler.add_answer(answer)
        model = (self._config.llm_model if self._config else "") or ""
        prompt = self._config.prompt if self._config else None
        if self.cards.answer(answer, message, model, prompt) and answer.error:
            self.notice.emit(f"No answer for turn {self.cards.number_of(answer.turn_order)}: "
                             f"{_short(answer.error)}")

    @_one_server_message
    def _on_speaker_revision(self, message: SpeakerRevision) -> None:
        """Later evidence moved turns to another speaker: on screen and on disk."""
        for revision in message.revisions:
            turn = self.assembler.revise_speaker(revision.turn_order, revision.speaker_label,
                                                 revision.words)
            if turn is not None and not self.cards.is_hidden(turn.order):
                self.cards.show(turn, saved=turn.final)  # a re-added turn is its revision

    def rename_speaker(self, label: str, name: str) -> None:
        """Call speaker `label` `name` in this session: cards, the saved session (so exports
        and search), and the transcript the whole-session analysis gets."""
        name = " ".join(name.split())
        self.cards.rename(self.assembler.turns, label, name)
        if self.call is not None:
            self.call.rename_speaker(label, name)
        self._names_to_answers()
        recorder = self.recording.recorder if self.recording is not None else None
        recorder = recorder or self.finished_recorder
        if recorder is not None:
            recorder.set_speakers(self.speaker_names)

    def _names_to_answers(self) -> None:
        """From the next turn on, the answers know who is who (a new connection between
        turns: the service and the engine take llm_gateway only when a connection opens)."""
        config = self._config
        gateway = config.params.llm_gateway if config is not None else None
        if gateway is None or config is None:
            return
        named = with_speaker_names(gateway, config.prompt, self.speaker_names,
                                   embedded=config.local)
        self.change_prompt(replace(config.params, llm_gateway=named), config.prompt_name,
                           "Answers use the speakers' names from turn {turn} on.")

    @property
    def speaker_names(self) -> dict[str, str]:
        """Speaker label -> the name the user gave (this session's)."""
        return self.cards.names

    @speaker_names.setter
    def speaker_names(self, names: dict[str, str]) -> None:
        self.cards.names = names

    @property
    def speakers(self) -> list[str]:
        """The speaker labels heard so far, in order of first appearance."""
        labels: list[str] = []
        others = self.call.other.assembler.turns if self.call is not None else []
        for turn in sorted([*self.assembler.turns, *others], key=lambda t: t.order):
            if turn.speaker and turn.speaker not in labels:
                labels.append(turn.speaker)
        return labels

    @_one_server_message
    def _on_warning(self, warning: ServerWarning) -> None:
        self.notice.emit(f"Server warning: {_short(warning.warning)}")

    @_one_server_message
    def _on_server_error(self, error: ServerError) -> None:
        log.error("session error %s", error.error_code)

    def _on_termination(self, link: StreamLink, termination: Termination) -> None:
        if link is self._stream:  # a retired link's Termination ends only that connection
            self._termination = termination

    def _on_server_progress(self, link: StreamLink, processed_ms: int | None = None) -> None:
        """A message from the current server while stopping: it is still working (a Heartbeat
        only when it reports more audio processed than the last one)."""
        if processed_ms is not None:
            if processed_ms <= self._last_processed_ms:
                return
            self._last_processed_ms = processed_ms
        if link is self._stream and self._stop_timer.isActive():
            self._stop_timer.start()

    # --- a dropped connection ----------------------------------------------------------------

    def _watch(self) -> None:
        """Every second: a server that went quiet is treated as gone; while reconnecting,
        say how much audio is waiting."""
        link = self._stream
        if self.state == SessionState.RECONNECTING and self._feeder is not None:
            waiting = round(self._feeder.unsent_ms / 1000)
            self.link_notice.emit("warning", f"Reconnecting… {waiting} s of audio waiting "
                                             "(it is being recorded).")
        elif link is not None and link.heartbeats_seen and not self._terminate_sent \
                and time.monotonic() - link.last_message_at > STALL_S:
            log.warning("no message from the server for %.0f s: treating it as gone", STALL_S)
            self._close_sentence = "The server stopped answering."
            link.abort()

    def _on_link_closed(self, link: StreamLink, code: int, sentence: str) -> None:
        if link is not self._stream:  # retired, or replaced after a drop
            log.info("an earlier connection closed (%s)", code)
            if link in self._retired:
                self._retired.remove(link)
            self._closed_links_sent += link.audio_bytes_sent
            link.wait(2000)
            link.deleteLater()
            return
        if self._feeder is not None:
            self._feeder.detach()
        if self._aborted or (self._termination is not None and self.state ==
                             SessionState.STOPPING):
            self._end_when_captured()
            return
        if self._terminate_sent and not self._turn_in_progress():
            # every word is in; only the confirmation is missing: no new connection for that
            self._close_sentence = self._close_sentence or sentence
            self._end_when_captured()
            return
        if code == CloseCode.NORMAL:  # the server ended the session itself
            if self._capture is not None and self.state != SessionState.STOPPING:
                self._fire(SessionEvent.STOP)
                self._capture.stop()
            self._end_when_captured()
            return
        if self._should_retry(code):
            self._on_dropped(sentence)
            return
        self._fail(sentence)

    def _turn_in_progress(self) -> bool:
        return any(not turn.final for turn in self.assembler.turns)

    def _should_retry(self, code: int) -> bool:
        return self._ever_opened and worth_retrying(code) \
            and not self._backoff.exhausted(time.monotonic())

    def _on_dropped(self, sentence: str) -> None:
        log.warning("connection lost (%s); reconnecting", sentence)
        self._dropped_at = self._dropped_at or time.monotonic()
        self._stop_timer.stop()
        self._terminate_sent = False  # the new connection gets it again
        self._fire(SessionEvent.DROPPED)
        delay = self._backoff.next_delay(time.monotonic()) or 0.0
        self.link_notice.emit("warning", f"{sentence} Reconnecting… (nothing you say is lost)")
        self._reconnect_timer.start(int(delay * 1000))

    def _reconnect(self) -> None:
        if self._config is None or self._feeder is None or not self.active:
            return
        try:
            endpoint = self._current_endpoint()
        except Exception as exc:  # the embedded engine is restarting, say
            log.info("cannot reconnect yet: %s", exc)
            self._retry_later(str(exc))
            return
        old = self._stream
        if old is not None:
            self._closed_links_sent += old.audio_bytes_sent
            old.wait(2000)
            old.deleteLater()
        if self.state == SessionState.STOPPING:  # Terminate again, after the replay
            self._feeder.when_drained(self._drained.emit)
        start_ms = self._feeder.replay_start(self._finalised_ms)
        self._lost_ms += max(0, start_ms - self._finalised_ms)
        timeline = Timeline(self._next_order(), start_ms)
        log.info("reconnecting: turn %d on, audio from %d ms", timeline.first_order, start_ms)
        self._start_streaming(self._config, timeline, endpoint)

    def _retry_later(self, why: str) -> None:
        delay = self._backoff.next_delay(time.monotonic())
        if delay is None:
            self._fail(f"Could not reconnect within {self._backoff.give_up_after_s:.0f} s "
                       f"({why}).")
        else:
            self._reconnect_timer.start(int(delay * 1000))

    def _current_endpoint(self) -> Endpoint:
        config = self._config
        assert config is not None
        return config.reconnect_to() if config.reconnect_to is not None else config.endpoint

    def _on_reconnected(self) -> None:
        down_s = time.monotonic() - self._dropped_at
        self._dropped_at = 0.0
        self._backoff.reset()
        lost = "" if not self._lost_ms else (
            f" {self._lost_ms / 1000:.0f} s of audio could not be sent again; it is in the "
            "recording.")
        text = f"Reconnected after {down_s:.0f} s; {'nothing was lost' if not lost else ''}."
        self.link_notice.emit("info", (text.rstrip(".;") + "." + lost) if lost else text)

    def _fail(self, sentence: str) -> None:
        """This session cannot go on: keep everything, say why, end it."""
        log.error("session cannot go on: %s", sentence)
        self._failed = True
        self._close_sentence = self._close_sentence or sentence
        self.problem.emit(sentence)
        self._reconnect_timer.stop()
        if self.call is not None:
            self.call.stop()
        if self._capture is not None and self.state != SessionState.STOPPING:
            self._capture.stop()
        self._end_when_captured()

    # --- ends --------------------------------------------------------------------------------

    def _on_position(self, position_ms: int, _duration_ms: int) -> None:
        self._position_ms = position_ms

    def _on_capture_failed(self, sentence: str) -> None:
        if self._config is not None and self._config.from_file:
            self._source_cut_short = True  # the rest of the recording has no words
        self.problem.emit(sentence)

    def _on_capture_finished(self, _captured_ms: int) -> None:
        if self._capture_thread is not None:
            self._capture_thread.quit()
        if self.state in (SessionState.CONNECTING, SessionState.LIVE, SessionState.RECONNECTING):
            self._fire(SessionEvent.STOP)  # the source ended (a file, a failed microphone)
        if self.state == SessionState.STOPPING and not self._failed:
            self._when_sent_terminate()

    def _when_sent_terminate(self) -> None:
        """Terminate once the feeder has sent every captured frame (maybe after a
        reconnection)."""
        self._pending_prompt = None  # the session ends: no prompt change is pending
        for link in list(self._retired):
            self._terminate_retired(link)
        if self._feeder is None:
            self._send_terminate()
        else:
            self._feeder.when_drained(self._drained.emit)

    def _send_terminate(self) -> None:
        link = self._stream
        if self.state != SessionState.STOPPING or link is None or self._terminate_sent:
            return
        link.send_message(ForceEndpoint())
        if link.send_message(Terminate()):
            self._terminate_sent = True
            self._stop_timer.start()
        else:
            link.abort()  # closed under us: the close handler reconnects or ends

    def _on_stop_silence(self) -> None:
        """The server said nothing for STOP_SILENCE_MS after Terminate. A turn still in
        progress is worth a new connection (it hears that audio again); otherwise every word
        is in, only the confirmation is missing: end, marked incomplete."""
        log.warning("no message from the server for %d ms after Terminate", STOP_SILENCE_MS)
        self._close_sentence = self._close_sentence or \
            "The server did not confirm the end of the session."
        if self._stream is None:
            return
        if self._turn_in_progress():
            self._terminate_sent = False  # a new connection sends it again
        else:
            self._aborted = True
        self._stream.abort()

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """End everything now (window closing, app quitting): stop capture, drop the socket,
        wait for both threads within `timeout_ms`, and keep what was recorded."""
        if not self.active:
            return
        self._aborted = True
        if self.call is not None:
            self.call.shutdown(timeout_ms)
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

    def _end_when_captured(self) -> None:
        if self._capture is None or not self._capture_thread.isRunning():
            self._finish()
        else:
            self._capture_thread.finished.connect(
                self._finish, Qt.ConnectionType.SingleShotConnection)

    def _finish(self) -> None:
        if not self.active:
            return
        if self.call is not None and self.call.other.active:  # the other side's last words
            self.call.stop()
            self.call.other.session_ended.connect(
                lambda _summary: self._finish(), Qt.ConnectionType.SingleShotConnection)
            return
        for timer in (self._stop_timer, self._reconnect_timer, self._watch_timer):
            timer.stop()
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
        captured_ms = self._feeder.captured_ms if self._feeder is not None else 0
        if self._feeder is not None:
            self._feeder.close()
        self.complete = self._covers_the_audio(captured_ms) \
            and (self.call is None or self.call.other.complete)
        with self._audio_lock:
            self._stream = None
        self._retired = []
        self._capture = self._capture_thread = None
        self._feeder = None
        marked = settle_cards(self.transcript, self.answers) if self._owns_cards else 0
        self._save(captured_ms)
        if not self._failed and self.state != SessionState.STOPPING:
            self._fire(SessionEvent.STOP)  # shut down mid-session: it ends, nothing is lost
        self._fire(SessionEvent.FAILED if self._failed else SessionEvent.ENDED)
        self.connection_changed.emit("Disconnected")
        confirmed_ms = 1000 * (self._termination.audio_duration_seconds or 0) \
            if self._termination is not None else 0
        self.session_ended.emit(self._summary(max(sent_ms, captured_ms, confirmed_ms), marked))

    def _covers_the_audio(self, captured_ms: int) -> bool:
        """Whether every word of the session's audio reached a final turn: the last
        connection confirmed the end, and no audio was left out after a drop."""
        if self._failed or self._termination is None or self._lost_ms or self._source_cut_short:
            return False
        if self._speech_without_words():
            return False
        return not self._aborted or captured_ms == 0

    def _speech_without_words(self) -> bool:
        spans = [(t.start_ms, t.end_ms) for t in self.assembler.final_turns
                 if t.start_ms is not None and t.end_ms is not None and t.text.strip()]
        missing = self._coverage.uncovered(spans)
        if missing:
            first = missing[0][0]
            log.warning("speech with no words: %d span(s), the first at %d ms", len(missing),
                        first)
            self._finalised_ms = min(self._finalised_ms, first)
            self._close_sentence = self._close_sentence or (
                f"The server heard speech at {format_clock(first)} but sent no words for it.")
        return bool(missing)

    def _save(self, captured_ms: int) -> None:
        if self.recording is None:
            return
        recorder = self.recording.recorder
        if self._failed and not self._ever_opened and captured_ms < DISCARD_BELOW_MS:
            self.recording.discard()  # never started: nothing worth a library entry
            self.saved_folder = None
            self.finished_recorder = None
            return
        until = None if self.complete else self._finalised_ms
        self.saved_folder = self.recording.finish(until)
        self.finished_recorder = recorder if self.saved_folder else None

    def _summary(self, audio_ms: int, marked: int) -> str:
        turns = len(self.assembler.final_turns)
        text = (f"Session ended: {round(audio_ms / 1000)} s of audio, "
                f"{turns} turn{'s' * (turns != 1)}")
        if self.complete:
            text += ", all transcribed."
        else:
            text += (". Partly transcribed: the transcript covers the audio up to "
                     f"{self._finalised_ms / 1000:.0f} s; all of it is saved.")
        if marked:
            text += f" {marked} turn{'s were' if marked != 1 else ' was'} never finalised."
        return f"{text} {self._close_sentence}" if self._close_sentence else text
