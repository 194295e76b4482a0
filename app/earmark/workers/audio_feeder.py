"""Between capture and the connection: every captured frame is kept in the session's backlog
and sent, on a thread of its own, to whichever connection is current.

* A dropped connection loses nothing: the next one is attached at the end of the last final
  turn and gets the audio from there again.
* It sends no faster than the server takes: the cloud at real-time pace (after a short
  burst), and the embedded engine no further ahead of what its `Heartbeat`s say it has
  processed than `max_ahead_ms`, so a file is transcribed as fast as the engine can go and
  never faster.
* A file source waits in `push` while too much is unsent (a microphone never waits).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..core.audio import duration_ms
from ..core.audio_backlog import AudioBacklog

log = logging.getLogger(__name__)

Sender = Callable[[bytes], None]

BURST_MS = 1000  # what a real-time-paced server takes at once on a new connection
MAX_UNSENT_MS = 5000  # a file source waits while this much is captured but not sent
# A server that has sent no Heartbeat this long after a connection opened does not report its
# progress (not the embedded engine, or an older one): it is fed without flow control.
HEARTBEAT_GRACE_S = 3.0


class AudioFeeder:
    def __init__(self, *, max_backlog_ms: int, realtime_only: bool,
                 max_ahead_ms: int | None, may_block: bool) -> None:
        self._backlog = AudioBacklog(max_backlog_ms)
        self._realtime_only = realtime_only
        self._max_ahead_ms = max_ahead_ms
        self._may_block = may_block
        self._cond = threading.Condition()
        self._sender: Sender | None = None
        self._next_ms = 0  # session position of the next frame to send
        self._acked_ms = 0  # what the current connection has processed (session clock)
        self._heartbeats = False  # the current connection reports its progress
        self._attached_at = 0.0
        self._attached_ms = 0
        self._closed = False
        self._drained: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name="audio-feeder", daemon=True)
        self._thread.start()

    # --- the capture thread ----------------------------------------------------------------

    def push(self, frame: bytes) -> None:
        with self._cond:
            self._backlog.append(frame)
            self._cond.notify_all()
            while self._may_block and not self._closed and self._unsent_ms() > MAX_UNSENT_MS:
                self._cond.wait(0.5)

    # --- the session (GUI thread) ----------------------------------------------------------

    def attach(self, sender: Sender, start_ms: int) -> None:
        """Send to `sender` from the session position `start_ms` on (a frame boundary that
        `replay_start` gave)."""
        with self._cond:
            self._sender = sender
            self._next_ms = self._acked_ms = self._attached_ms = start_ms
            self._attached_at = time.monotonic()
            self._heartbeats = False
            self._cond.notify_all()

    def detach(self) -> None:
        with self._cond:
            self._sender = None
            self._cond.notify_all()

    def replay_start(self, from_ms: int) -> int:
        """Where a new connection starts when it should hear the audio from `from_ms` on: the
        frame that holds it, or the oldest frame kept when that one aged out."""
        with self._cond:
            return self._backlog.since(from_ms)[0]

    def finalised(self, up_to_ms: int) -> None:
        """A server finalised the audio up to `up_to_ms`: it never has to be sent again."""
        with self._cond:
            self._backlog.trim_before(min(up_to_ms, self._next_ms))

    def acknowledge(self, processed_ms: int) -> None:
        """A Heartbeat: the current connection has processed the audio up to `processed_ms`
        (session clock). Thread-safe (called on the websocket thread)."""
        with self._cond:
            self._acked_ms = max(self._acked_ms, processed_ms)
            self._heartbeats = True
            self._cond.notify_all()

    def when_drained(self, callback: Callable[[], None] | None) -> None:
        """Call `callback` (on the feeder thread) once everything captured has been sent."""
        with self._cond:
            self._drained = callback
            self._cond.notify_all()

    @property
    def captured_ms(self) -> int:
        with self._cond:
            return self._backlog.end_ms

    @property
    def sent_ms(self) -> int:
        """The session position of the next frame to send."""
        with self._cond:
            return self._next_ms

    @property
    def unsent_ms(self) -> int:
        with self._cond:
            return self._unsent_ms()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(2)

    # --- the feeder thread -----------------------------------------------------------------

    def _unsent_ms(self) -> int:
        return self._backlog.end_ms - self._next_ms

    def _run(self) -> None:
        while True:
            with self._cond:
                item = self._next_frame()
                while item is None and not self._closed:
                    self._cond.wait(self._wait_s())
                    item = self._next_frame()
                if self._closed:
                    return
                sender, frame = item
            try:
                sender(frame)
            except Exception:  # a connection that broke reports its close on its own
                log.exception("audio frame not sent")
            with self._cond:
                self._cond.notify_all()  # a waiting file source may read on

    def _next_frame(self) -> tuple[Sender, bytes] | None:
        """Under the lock: the frame to send now, advancing the position; or None."""
        if self._sender is None:
            return None
        if self._unsent_ms() <= 0:
            self._call_drained()
            return None
        if not self._may_send():
            return None
        start, frames = self._backlog.since(self._next_ms)
        if not frames:
            return None
        self._next_ms = start + duration_ms(len(frames[0]))
        return self._sender, frames[0]

    def _may_send(self) -> bool:
        if self._flow_controlled() and self._next_ms - self._acked_ms >= self._max_ahead_ms:
            return False
        if self._realtime_only:
            elapsed_ms = (time.monotonic() - self._attached_at) * 1000
            return self._next_ms - self._attached_ms < elapsed_ms + BURST_MS
        return True

    def _flow_controlled(self) -> bool:
        if self._max_ahead_ms is None:
            return False
        return self._heartbeats or time.monotonic() - self._attached_at < HEARTBEAT_GRACE_S

    def _wait_s(self) -> float | None:
        """Held back by pacing or by the grace for a first Heartbeat: look again soon; else
        a push, an attach or a Heartbeat notifies."""
        return 0.02 if self._sender is not None and self._unsent_ms() > 0 else None

    def _call_drained(self) -> None:
        callback, self._drained = self._drained, None
        if callback is not None:
            callback()
