"""The session's audio that no connection has had finalised yet, on the session's clock.

When a connection drops, the words of the turn in progress (and of any audio sent but not yet
answered) would be lost with it. The backlog keeps every frame from the end of the last final
turn on, so a new connection can be sent that audio again; final turns trim it. Frames are
kept whole (a server takes 50–1000 ms per message), so a replay starts at the frame that holds
the requested moment and the new connection's clock starts at that frame.
"""

from __future__ import annotations

from collections import deque

from .audio import duration_ms


class AudioBacklog:
    def __init__(self, max_ms: int) -> None:
        self.max_ms = max_ms
        self._frames: deque[tuple[int, bytes]] = deque()  # (start byte on the session clock)
        self._end = 0  # bytes captured in the session
        self.dropped_ms = 0  # audio that aged out before any connection finalised it

    @property
    def end_ms(self) -> int:
        return duration_ms(self._end)

    @property
    def start_ms(self) -> int:
        return duration_ms(self._frames[0][0]) if self._frames else self.end_ms

    def append(self, frame: bytes) -> int:
        """Keep `frame`; returns its start on the session clock, in ms."""
        start = self._end
        self._frames.append((start, frame))
        self._end += len(frame)
        while self._frames and self.end_ms - self.start_ms > self.max_ms:
            self.dropped_ms += duration_ms(len(self._frames.popleft()[1]))
        return duration_ms(start)

    def since(self, ms: int) -> tuple[int, list[bytes]]:
        """(where the first returned frame starts, the frames from the one holding `ms` on).
        Earlier than what is kept: from the oldest frame kept."""
        frames = [(start, frame) for start, frame in self._frames
                  if duration_ms(start + len(frame)) > ms]
        if not frames:
            return self.end_ms, []
        return duration_ms(frames[0][0]), [frame for _, frame in frames]

    def trim_before(self, ms: int) -> None:
        """Forget the frames that end at or before `ms` (finalised by a server)."""
        while self._frames and duration_ms(self._frames[0][0] + len(self._frames[0][1])) <= ms:
            self._frames.popleft()
