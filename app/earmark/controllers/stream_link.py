"""One websocket connection of a live session: the streaming worker on its thread, with its
messages mapped onto the session's timeline.

A session has one link, or several: when the prompt changes mid-session the old link is
retired (it gets no more audio, delivers the answers it still owes, then ends) while the new
one carries on, and when a connection drops a new link takes over from the end of the last
final turn. Turns a retired link starts after it was retired belong to the new link and are
dropped here.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QThread, Signal

from ..core.protocol import ClientMessage, Heartbeat, LLMGatewayResponse, Timeline, Turn
from ..workers.streaming import StreamingWorker


class StreamLink(QObject):
    connecting = Signal(str)
    opened = Signal()
    begin = Signal(object)  # Begin
    turn = Signal(object)  # Turn, on the session's timeline
    llm_response = Signal(object)  # LLMGatewayResponse, on the session's timeline
    speaker_revision = Signal(object)  # SpeakerRevision, on the session's timeline
    # the audio the server has processed, in ms on the session's clock; emitted on the
    # websocket thread (flow control must not wait for a busy GUI)
    processed = Signal(int)
    # a Heartbeat's interval of audio (session clock) and its highest speech probability
    speech_probability = Signal(int, int, float)
    warning = Signal(object)
    error = Signal(object)
    termination = Signal(object)
    protocol_problem = Signal(str)
    closed = Signal(int, str)

    def __init__(self, url: str, headers: dict[str, str], timeline: Timeline | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeline = timeline or Timeline()
        self.terminating = False  # Terminate sent (retired links)
        self.heartbeats_seen = False  # the server reports its progress (session_heartbeat)
        self._last_processed = self.timeline.start_ms
        self._turns_kept: int | None = None  # once retired: how many of its turns count
        self.finished_turns = 0  # how many of its turns ended (its numbering: 0 … n-1)
        self.orders: set[int] = set()  # the session's numbers of the turns it delivered
        self.worker = StreamingWorker(url, headers)
        self.thread = QThread(self)
        self.thread.setObjectName("streaming")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        w = self.worker
        w.connecting.connect(self.connecting)
        w.opened.connect(self.opened)
        w.begin_received.connect(self.begin)
        w.turn_received.connect(self._on_turn)
        w.llm_response_received.connect(self._on_llm_response)
        w.speaker_revision_received.connect(
            lambda message: self.speaker_revision.emit(self.timeline.revision(message)))
        w.heartbeat_received.connect(self._on_heartbeat, Qt.ConnectionType.DirectConnection)
        w.warning_received.connect(self.warning)
        w.error_received.connect(self.error)
        w.termination_received.connect(self.termination)
        w.protocol_problem.connect(self.protocol_problem)
        w.closed.connect(self._on_closed)

    def start(self) -> None:
        self.thread.start()

    def retire(self, turns_kept: int) -> None:
        """No more audio comes; only this link's first `turns_kept` turns still count."""
        self._turns_kept = turns_kept

    @property
    def retired(self) -> bool:
        return self._turns_kept is not None

    @property
    def continues_a_session(self) -> bool:
        """Opened after a prompt change: its numbers and clock start mid-session."""
        return self.timeline != Timeline()

    def send_audio(self, frame: bytes) -> None:
        self.worker.send_audio(frame)  # thread-safe; buffered until the socket opens

    def send_message(self, message: ClientMessage) -> bool:
        return self.worker.send_message(message)

    def abort(self) -> None:
        self.worker.abort()

    def wait(self, timeout_ms: int) -> None:
        self.thread.quit()
        self.thread.wait(timeout_ms)

    @property
    def audio_bytes_sent(self) -> int:
        return self.worker.audio_bytes_sent

    @property
    def last_message_at(self) -> float:
        """time.monotonic() of the server's last message (0: none yet)."""
        return self.worker.last_message_at

    def _on_heartbeat(self, message: Heartbeat) -> None:
        self.heartbeats_seen = True
        processed = self.timeline.start_ms + message.total_audio_received_ms
        if message.max_speech_probability is not None:
            self.speech_probability.emit(self._last_processed, processed,
                                         message.max_speech_probability)
        self._last_processed = processed
        self.processed.emit(processed)

    def _counts(self, turn_order: int) -> bool:
        return self._turns_kept is None or turn_order < self._turns_kept

    def _on_turn(self, message: Turn) -> None:
        if self._counts(message.turn_order):
            if message.end_of_turn:
                self.finished_turns = max(self.finished_turns, message.turn_order + 1)
            turn = self.timeline.turn(message)
            self.orders.add(turn.turn_order)
            self.turn.emit(turn)

    def _on_llm_response(self, message: LLMGatewayResponse) -> None:
        if self._counts(message.turn_order):
            self.llm_response.emit(self.timeline.answer(message))

    def _on_closed(self, code: int, sentence: str) -> None:
        self.thread.quit()
        self.closed.emit(code, sentence)
