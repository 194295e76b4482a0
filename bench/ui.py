"""How long the main window's GUI stalls per transcript message, at 100 and at 10,000 turns.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui.py
        [--turns 100 10000] [--timed 100] [--repeat 5] [--burst 10000] [--huge-mb 10]

The real MainWindow (1200x800, offscreen, cloud engine chosen, nothing started) is fed
recorded-style server messages the way a StreamLink hands them to the session controller:
`controller._on_turn(link, Turn)` and `controller._on_llm_response(LLMGatewayResponse)`. Each
turn is five messages: two growing partials, the unformatted final, the formatted final, and
the LLM's answer (20 to 60 words each, deterministic).

Stall per message: the time from handing one message to the controller until the GUI is idle
again with its frame painted: the handler, then `processEvents()` three times (the zero-timers
it started: delayed layouts, scrolling; then the UpdateRequest they posted, on which the
offscreen platform paints the dirty panes synchronously, as a screen would). The line's
`frames=` counts the paint events the two card panes' viewports received while timed, to show
the painting is in the time (about one per message: a message changes one pane).

`turns=N`: a fresh window is brought to N - T turns untimed (messages fed in chunks of 200
with the panes scrolled to the top, so old code that re-lays out everything per row gets there
in finite time), scrolled to the bottom and painted; then the last T turns' messages are timed
one by one, following the newest card as a user watching the session would. That is done
`--repeat` times per N, the sizes taking turns (100, 10000, 100, 10000, ...) so that the load
of a shared machine falls on both alike; p50/p99 are over all the timed messages of that N
(5 * T * repeat; the same number for every N), total_s is their summed wall time.

`burst`: a fresh window receives `--burst` messages with no event processing in between (a
server that answers a backlog at once), then the time until idle and painted; the line says
how long the whole burst froze the window. `huge`: one final turn of `--huge-mb` MB and an
answer of half that, fed to a fresh window; the time until idle and painted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
from PySide6.QtCore import QEvent, QObject, QSettings
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: tests.conftest

from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.protocol import LLMGatewayResponse, Turn, Word
from earmark.settings import Key, Settings
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost
from tests.conftest import MemoryKeyring

VOCABULARY = ("we need to ship the release on friday who owns notes budget review team plan "
         "customer meeting next week design update numbers quarter agenda follow up call "
         "decide migrate server database tests ready launch marketing draft")
WORDS = VOCABULARY.split()
PREFILL_CHUNK = 200


class _Link:
    """Stands in for the StreamLink a message came from (a retired one is always heard)."""

    retired = True


def make_window(folder: Path) -> MainWindow:
    settings = Settings(QSettings(str(folder / "earmark.ini"), QSettings.Format.IniFormat))
    settings.set(Key.ENGINE, CLOUD_ENGINE)
    window = MainWindow(settings, EngineHost("whisper-tiny.en"))
    window.resize(1200, 800)
    window.show()
    QApplication.processEvents()
    return window


def _sentence(rng: random.Random, low: int, high: int) -> list[str]:
    return [rng.choice(WORDS) for _ in range(rng.randint(low, high))]


def _turn(order: int, words: list[str], final: bool, formatted: bool) -> Turn:
    text = " ".join(words)
    if formatted:
        text = text[:1].upper() + text[1:] + "."
    timed = tuple(Word(order * 10_000 + i * 300, order * 10_000 + i * 300 + 250, w, 0.9, True)
                  for i, w in enumerate(words))
    return Turn(order, formatted, final, text, 0.8 if final else 0.1, timed)


def _answer(order: int, words: list[str]) -> LLMGatewayResponse:
    data = {"model": "claude-sonnet-4-6",
            "choices": [{"message": {"role": "assistant", "content": " ".join(words)}}]}
    return LLMGatewayResponse(order, "", data)


def messages(first: int, count: int, seed: int = 7) -> Iterator[Turn | LLMGatewayResponse]:
    """Five messages per turn, as a live session sends them."""
    rng = random.Random(seed + first)
    for order in range(first, first + count):
        words = _sentence(rng, 20, 60)
        yield _turn(order, words[: len(words) // 3], False, False)
        yield _turn(order, words[: 2 * len(words) // 3], False, False)
        yield _turn(order, words, True, False)
        yield _turn(order, words, True, True)
        yield _answer(order, _sentence(rng, 20, 60))


def feeder(window: MainWindow) -> Callable[[Any], None]:
    controller, link = window.controller, _Link()

    def feed(message: Any) -> None:
        if isinstance(message, Turn):
            controller._on_turn(link, message)
        else:
            controller._on_llm_response(message)

    return feed


def settle() -> None:
    """Until idle with the frame painted (see the module's docstring)."""
    for _ in range(3):
        QApplication.processEvents()


class PaintCounter(QObject):
    """Counts the paint events of the card panes' viewports."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.frames = 0
        for view in (window.transcript_view, window.answer_view):
            view.viewport().installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.frames += 1
        return False


def _panes_to_top(window: MainWindow) -> None:
    for view in (window.transcript_view, window.answer_view):
        view.verticalScrollBar().setValue(0)


def prefill(window: MainWindow, turns: int) -> None:
    feed = feeder(window)
    for i, message in enumerate(messages(0, turns)):
        feed(message)
        if i % PREFILL_CHUNK == 0:
            _panes_to_top(window)
            QApplication.processEvents()
            _panes_to_top(window)
    for view in (window.transcript_view, window.answer_view):
        view.scrollToBottom()
    settle()


def timed_run(window: MainWindow, first: int, turns: int) -> list[float]:
    feed, stalls = feeder(window), []
    for message in messages(first, turns):
        started = time.perf_counter()
        feed(message)
        settle()
        stalls.append((time.perf_counter() - started) * 1000)
    return stalls


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def run_turns(folder: Path, turns: int, timed: int) -> tuple[list[float], float, int]:
    """One fresh window brought to `turns` turns: the stalls of its last `timed` turns'
    messages (ms), their wall time (s) and the frames painted meanwhile."""
    window = make_window(folder)
    timed = turns if timed <= 0 else min(timed, turns)
    prefill(window, turns - timed)
    counter = PaintCounter(window)
    started = time.perf_counter()
    stalls = timed_run(window, turns - timed, timed)
    total = time.perf_counter() - started
    assert window.controller.transcript.rowCount() == turns
    frames = counter.frames
    close(window)
    return stalls, total, frames


def report_turns(folder: Path, sizes: list[int], timed: int, repeat: int) -> None:
    runs: dict[int, list[tuple[list[float], float, int]]] = {n: [] for n in sizes}
    for _ in range(repeat):
        for turns in sizes:
            runs[turns].append(run_turns(folder, turns, timed))
    for turns, results in runs.items():
        stalls = [ms for run in results for ms in run[0]]
        total = sum(run[1] for run in results)
        frames = sum(run[2] for run in results)
        print(f"turns={turns} p50_ms={statistics.median(stalls):.2f} "
              f"p99_ms={percentile(stalls, 99):.2f} total_s={total:.1f} "
              f"(timed {len(stalls)} messages in {repeat} windows, frames={frames}, "
              f"max_ms={max(stalls):.1f})", flush=True)


def run_burst(folder: Path, count: int) -> None:
    window = make_window(folder)
    feed = feeder(window)
    burst = [m for m, _ in zip(messages(0, count // 5 + 1), range(count), strict=False)]
    started = time.perf_counter()
    for message in burst:
        feed(message)
    settle()
    print(f"burst messages={count} total_s={time.perf_counter() - started:.2f}", flush=True)
    close(window)


def run_huge(folder: Path, megabytes: float) -> None:
    window = make_window(folder)
    feed = feeder(window)
    text = " ".join(WORDS) + " "
    turn = (text * int(megabytes * 1e6 / len(text) + 1)).strip()
    answer = turn[: len(turn) // 2]
    started = time.perf_counter()
    feed(Turn(0, True, True, turn, 0.9, ()))
    feed(_answer(0, answer.split(" ")))
    settle()
    print(f"huge turn_mb={len(turn) / 1e6:.1f} answer_mb={len(answer) / 1e6:.1f} "
          f"total_s={time.perf_counter() - started:.2f}", flush=True)
    close(window)


def close(window: MainWindow) -> None:
    window.controller.shutdown()
    window.close()
    window.deleteLater()
    QApplication.processEvents()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[100, 10_000])
    parser.add_argument("--timed", type=int, default=100,
                        help="time the last T turns of each window (0: all)")
    parser.add_argument("--repeat", type=int, default=5, help="windows per size")
    parser.add_argument("--burst", type=int, default=10_000, help="messages; 0 skips")
    parser.add_argument("--huge-mb", type=float, default=10.0, help="0 skips")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    keyring.set_keyring(MemoryKeyring())
    with tempfile.TemporaryDirectory() as tmp:
        report_turns(Path(tmp), args.turns, args.timed, args.repeat)
        if args.burst:
            run_burst(Path(tmp), args.burst)
        if args.huge_mb:
            run_huge(Path(tmp), args.huge_mb)
    del app


if __name__ == "__main__":
    main()
