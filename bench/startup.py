"""Time from launching the app process to its main window being shown (offscreen), and the
same to the embedded engine being ready. Prints median and worst over N runs.

Usage: .venv/bin/python bench/startup.py [--runs 5]"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import sys, time, tempfile
from PySide6.QtCore import QSettings, QTimer
from earmark.app import build_main_window, create_app
from earmark.settings import Settings
app = create_app(sys.argv[:1])
work = tempfile.mkdtemp()
window = build_main_window(Settings(QSettings(work + "/s.ini", QSettings.Format.IniFormat)))
window.show()
app.processEvents()
print("shown", flush=True)
window.engine_host.state_changed.connect(
    lambda state, _m: (print(state, flush=True), app.quit()) if state in ("ready", "failed",
                                                                          "missing") else None)
QTimer.singleShot(0, window.engine_host.start)
app.exec()
window.engine_host.stop()
"""


def one_run() -> tuple[float, float]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "XDG_DATA_HOME": tempfile.mkdtemp(), "XDG_STATE_HOME": tempfile.mkdtemp()}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.DEVNULL, env=env)
    shown = ready = float("nan")
    for line in child.stdout:
        if line.startswith("shown"):
            shown = time.perf_counter() - start
        elif line.strip() in ("ready", "failed", "missing"):
            ready = time.perf_counter() - start
    child.wait(60)
    return shown, ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = [one_run() for _ in range(parser.parse_args().runs)]
    for label, values in (("window shown", [r[0] for r in runs]),
                          ("engine ready", [r[1] for r in runs])):
        print(f"{label:>13}: median {statistics.median(values):.2f} s, "
              f"worst {max(values):.2f} s over {len(values)} runs")


if __name__ == "__main__":
    main()
