"""The feeder between capture and the connection: nothing lost across a drop, paced for the
cloud, flow-controlled for the embedded engine."""

from __future__ import annotations

import threading
import time

from earmark.core.audio import FRAME_BYTES, FRAME_MS
from earmark.workers.audio_feeder import MAX_UNSENT_MS, AudioFeeder


def frame(i: int) -> bytes:
    return i.to_bytes(4, "big") * (FRAME_BYTES // 4)


def index(data: bytes) -> int:
    return int.from_bytes(data[:4], "big")


class Recorder:
    def __init__(self) -> None:
        self.frames: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, data: bytes) -> None:
        with self.lock:
            self.frames.append(index(data))

    def count(self) -> int:
        with self.lock:
            return len(self.frames)


def wait_until(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def feeder(**kwargs) -> AudioFeeder:
    options = {"max_backlog_ms": 60_000, "realtime_only": False, "max_ahead_ms": None,
               "may_block": False, **kwargs}
    return AudioFeeder(**options)


def test_a_new_connection_gets_the_audio_since_the_last_final_turn_again():
    f = feeder()
    first = Recorder()
    f.attach(first, 0)
    for i in range(20):
        f.push(frame(i))
    wait_until(lambda: first.count() == 20)
    f.finalised(400)  # a final turn ended at 400 ms (frame 8 starts there)
    f.detach()  # the connection dropped
    for i in range(20, 30):  # captured while reconnecting
        f.push(frame(i))
    second = Recorder()
    start = f.replay_start(400)
    assert start == 400
    f.attach(second, start)
    wait_until(lambda: second.count() == 22)
    assert second.frames == list(range(8, 30))
    f.close()


def test_the_cloud_is_fed_at_real_time_after_a_short_burst():
    f = feeder(realtime_only=True)
    for i in range(60):  # 3 s waiting after a reconnection
        f.push(frame(i))
    sent = Recorder()
    f.attach(sent, 0)
    time.sleep(0.5)
    # 1 s of burst plus 0.5 s of real time, give or take a frame
    assert 28 <= sent.count() <= 32, sent.count()
    f.close()


def test_the_engine_is_fed_no_further_ahead_than_it_has_processed():
    f = feeder(max_ahead_ms=1000)
    sent = Recorder()
    f.attach(sent, 0)
    for i in range(60):
        f.push(frame(i))
    wait_until(lambda: sent.count() == 1000 // FRAME_MS)
    time.sleep(0.1)
    assert sent.count() == 20  # waits for a heartbeat
    f.acknowledge(1500)
    wait_until(lambda: sent.count() == 50)
    f.close()


def test_a_file_waits_while_too_much_is_unsent_and_a_microphone_never_does():
    pushed: list[int] = []
    f = feeder(may_block=True)  # no connection yet: nothing is sent

    def read_file() -> None:
        for i in range(200):
            f.push(frame(i))
            pushed.append(i)

    reader = threading.Thread(target=read_file, daemon=True)
    reader.start()
    time.sleep(0.3)
    assert len(pushed) == MAX_UNSENT_MS // FRAME_MS  # the next push waits
    sent = Recorder()
    f.attach(sent, 0)
    reader.join(5)
    assert len(pushed) == 200
    wait_until(lambda: sent.count() == 200)
    f.close()

    mic = feeder(may_block=False)
    for i in range(200):
        mic.push(frame(i))  # returns at once, nothing attached
    assert mic.unsent_ms == 200 * FRAME_MS
    mic.close()


def test_drained_is_called_once_everything_captured_was_sent():
    f = feeder()
    sent = Recorder()
    done = threading.Event()
    for i in range(5):
        f.push(frame(i))
    f.when_drained(done.set)
    assert not done.wait(0.1)  # nothing attached: nothing sent
    f.attach(sent, 0)
    assert done.wait(2) and sent.count() == 5
    f.close()


def test_a_server_that_never_reports_progress_is_fed_without_flow_control(monkeypatch):
    from earmark.workers import audio_feeder

    monkeypatch.setattr(audio_feeder, "HEARTBEAT_GRACE_S", 0.3)
    f = feeder(max_ahead_ms=1000)
    sent = Recorder()
    f.attach(sent, 0)
    for i in range(60):
        f.push(frame(i))
    time.sleep(0.1)
    assert sent.count() == 20  # held back while a first Heartbeat may still come
    wait_until(lambda: sent.count() == 60)  # none came: everything goes
    f.close()
