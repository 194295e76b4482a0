"""Benchmark the echo check of a call (the other side heard again through the microphone).

A call is built from the two-speaker fixture (tests/support/call_audio.py): its first speaker
is the other side (system audio), its second the user (microphone), and the microphone also
hears the other side at `gain`, `delay` ms late, as off a laptop's speakers. Each call runs as
the app runs it (two streams into the embedded engine, both paced alike, as live audio is),
and is scored twice from the same run: the raw microphone turns (no check) and the turns the
session saved (with the check). Printed per echo:

* dup: the other side's sentences that also appear (4 words in a row) in "You" turns;
* you_found: the user's sentences found in "You" turns;
* you_wer: WER of the user's words ("You" turns against the user's sentences);
* echo_turns: "You" turns shown as nothing because they were all echo.

    .venv/bin/python bench/echo.py              # 8 turns, 4 echoes (~4 min)
    .venv/bin/python bench/echo.py --turns 20   # the whole 3 min fixture
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import jiwer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo: tests.support
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

from PySide6.QtCore import QCoreApplication

from earmark.workers.engine_host import EngineHost, EngineState
from tests.support.call_audio import Call, build_call, run_call, shares_a_run, words
from tests.support.qt_wait import wait_for

# gain, delay ms (the first: no echo at all, the baseline)
ECHOES = [(0.0, 0), (0.2, 40), (0.4, 60), (0.7, 120), (1.0, 250)]


def score(yours: list[str], call: Call, echo_turns: int) -> str:
    dup = sum(any(shares_a_run(text, s) for text in yours) for s in call.them)
    found = sum(any(shares_a_run(text, s) for text in yours) for s in call.you)
    wer = jiwer.wer(" ".join(words(" ".join(call.you))), " ".join(words(" ".join(yours))))
    return (f"dup={dup}/{len(call.them)} you_found={found}/{len(call.you)} "
            f"you_wer={wer:.3f} echo_turns={echo_turns}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=8)
    parser.add_argument("--pace", type=float, default=3.0, help="times real time")
    args = parser.parse_args()
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])  # noqa: F841
    host = EngineHost("whisper-tiny.en")
    host.start()
    wait_for(lambda: host.state == EngineState.READY, 180)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for gain, delay in ECHOES:
                folder = Path(tmp) / f"{gain}-{delay}"
                call = build_call(folder, turns=args.turns, echo_gain=gain,
                                  echo_delay_ms=delay)
                controller, session, _ = run_call(host, call, folder, args.pace)
                raw = [t.text for t in controller.assembler.final_turns]
                checked = [t.text for t in session.turns if t.speaker == "You"]
                hidden = len(raw) - len(checked)
                print(f"echo gain={gain} delay_ms={delay}")
                print(f"  without check: {score(raw, call, 0)}")
                print(f"  with check:    {score(checked, call, hidden)}", flush=True)
    finally:
        host.stop()


if __name__ == "__main__":
    main()
