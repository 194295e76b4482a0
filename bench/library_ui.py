"""How fast the session library window opens, and whether search keeps it responsive.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/library_ui.py [--sessions 1000] [--turns 30]

Builds real sessions in a temporary folder (with bench/library.py's builder), then times
LibraryWindow(store) + show() until the first frame is painted, without and with the store's
index file; opening one session; and a search across all of them, measuring the longest
stall of the GUI event loop while the search runs on its worker thread.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtWidgets import QApplication

from earmark.core.session import SessionStore
from earmark.core.session.library import INDEX_FILE
from earmark.ui.library_window import LibraryWindow


def _builder():
    """bench/library.py's `build` (bench/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_library",
                                                  Path(__file__).with_name("library.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build


def open_window(app: QApplication, store: SessionStore) -> tuple[float, LibraryWindow]:
    started = time.perf_counter()
    window = LibraryWindow(store)
    window.show()
    window.repaint()  # the first frame, table included
    app.processEvents()
    return (time.perf_counter() - started) * 1000, window


def close(window: LibraryWindow) -> None:
    window.close()
    window.deleteLater()


def search_stall(app: QApplication, window: LibraryWindow, query: str) -> tuple[float, float,
                                                                                   int]:
    """(search ms, longest event-loop gap ms, hits) for one search from the window."""
    gaps: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer(interval=5)
    timer.timeout.connect(tick)
    timer.start()
    done: list[int] = []
    window.controller.search_finished.connect(lambda _q, n: done.append(n))
    started = time.perf_counter()
    window.search_box.setText(query)
    window._run_search()  # as if Enter was pressed: no typing delay
    while not done:
        app.processEvents()
        time.sleep(0.001)
    elapsed = (time.perf_counter() - started) * 1000
    timer.stop()
    return elapsed, max(gaps, default=0.0), done[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sessions"
        root.mkdir()
        t = time.perf_counter()
        _builder()(root, args.sessions, args.turns)
        print(f"built {args.sessions} sessions x {args.turns} turns "
              f"in {time.perf_counter() - t:.1f} s")
        store = SessionStore(root, use_trash=False)

        cold = []
        for _ in range(args.repeat):
            (root / INDEX_FILE).unlink(missing_ok=True)
            ms, window = open_window(app, store)
            cold.append(ms)
            close(window)
        warm = []
        for _ in range(args.repeat):
            ms, window = open_window(app, store)
            warm.append(ms)
            close(window)
        print(f"open the library window, no index:   {statistics.median(cold):7.1f} ms "
              f"(median of {args.repeat})")
        print(f"open the library window, with index: {statistics.median(warm):7.1f} ms "
              f"(median of {args.repeat}; {window.controller.sessions.rowCount()} rows)")

        ms, window = open_window(app, store)
        t = time.perf_counter()
        window.table.selectRow(0)
        app.processEvents()
        print(f"open one session ({args.turns} turns):      "
              f"{(time.perf_counter() - t) * 1000:7.1f} ms")
        for query in ("zebra", "budget review"):
            elapsed, stall, hits = search_stall(app, window, query)
            print(f"search {query!r:16} {elapsed:7.1f} ms, {hits} hits; longest GUI stall "
                  f"{stall:5.1f} ms")
        window.controller.shutdown()
        close(window)


if __name__ == "__main__":
    main()
