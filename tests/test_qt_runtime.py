"""The Qt binding must not corrupt reference counts when signals are emitted: a live session
emits thousands of signals (a frame every 50 ms), and PySide6 6.12.0 released `True` once per
emit until the interpreter aborted."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    happened = Signal(int)


def test_emitting_signals_keeps_reference_counts(qapp):
    emitter = _Emitter()
    received: list[int] = []
    emitter.happened.connect(received.append)
    before = (sys.getrefcount(True), sys.getrefcount(False))
    for i in range(200):
        emitter.happened.emit(i)
    after = (sys.getrefcount(True), sys.getrefcount(False))
    assert received == list(range(200))
    assert abs(after[0] - before[0]) < 20 and abs(after[1] - before[1]) < 20
