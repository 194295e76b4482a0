"""The audio kept for a new connection after a drop."""

from __future__ import annotations

from earmark.core.audio import FRAME_BYTES, FRAME_MS
from earmark.core.audio_backlog import AudioBacklog


def frame(i: int) -> bytes:
    return bytes([i % 256]) * FRAME_BYTES


def filled(n: int, max_ms: int = 60_000) -> AudioBacklog:
    backlog = AudioBacklog(max_ms)
    for i in range(n):
        assert backlog.append(frame(i)) == i * FRAME_MS
    return backlog


def test_a_replay_starts_at_the_frame_that_holds_the_moment():
    backlog = filled(10)
    start, frames = backlog.since(120)  # inside frame 2 (100-150 ms)
    assert start == 100 and frames == [frame(i) for i in range(2, 10)]
    assert backlog.since(500) == (500, [])


def test_final_turns_trim_what_they_cover():
    backlog = filled(10)
    backlog.trim_before(230)  # frames 0-3 end by 200 ms; frame 4 (200-250) holds 230
    assert backlog.start_ms == 200
    assert backlog.since(0) == (200, [frame(i) for i in range(4, 10)])


def test_the_oldest_audio_ages_out_and_is_counted():
    backlog = filled(30, max_ms=1000)  # 1.5 s captured, 1 s kept
    assert backlog.end_ms == 1500 and backlog.start_ms == 500
    assert backlog.dropped_ms == 500
