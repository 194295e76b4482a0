"""Fixtures for the analysis tests: a qasync loop, a Gateway replay server, and `run`.

How async code is tested here (the pattern to reuse)
----------------------------------------------------
The app runs asyncio *inside* Qt's event loop (qasync). Tests do the same:

* `qloop` makes a `qasync.QEventLoop(app, already_running=True)`: an asyncio loop that counts
  as running while *any* Qt event loop spins, so pytest-qt's `qtbot.waitUntil` /
  `qtbot.waitSignal` drive asyncio tasks, aiohttp sockets and Qt signals together, exactly as
  `app.exec()` does in the app. Code under test may call `asyncio.get_running_loop()` from a
  Qt slot, as it does in production.
* `run(coro)` schedules a coroutine on that loop and spins Qt (via `qtbot.waitUntil`) until
  it is done, then returns its result or raises its exception. Never call
  `loop.run_until_complete` in these tests: the loop is already "running".
* Servers the code talks to run on their own thread and loop (`GatewayReplay`), so a server
  never depends on the loop it is testing.
* The loop is made once per test session and never stopped (`QEventLoop.stop()` calls
  `QApplication.exit()`, which makes every later Qt event loop return at once). Each test
  marks it as asyncio's running loop and un-marks it at teardown, after cancelling tasks left
  over, so other test packages can still call `asyncio.run()` on this thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from tests.analysis.gateway_replay import GatewayReplay


@pytest.fixture(scope="session")
def _session_qloop(qapp: QApplication) -> qasync.QEventLoop:
    # One per test session, never stopped: QEventLoop.stop() calls QApplication.exit(), after
    # which every later Qt event loop (qtbot.waitUntil's too) returns at once.
    return qasync.QEventLoop(qapp, already_running=True)


@pytest.fixture
def qloop(_session_qloop: qasync.QEventLoop, qapp: QApplication
          ) -> Iterator[qasync.QEventLoop]:
    loop = _session_qloop
    asyncio.set_event_loop(loop)
    asyncio.events._set_running_loop(loop)  # what qasync does for an already running app
    try:
        yield loop
    finally:
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in tasks:
            task.cancel()
        for _ in range(200):
            if all(t.done() for t in tasks):
                break
            qapp.processEvents()
        # other test packages call asyncio.run() on this thread: it must not look busy
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)


@pytest.fixture
def run(qloop: qasync.QEventLoop, qtbot) -> Callable[..., Any]:
    def run(coro: Coroutine[Any, Any, Any], timeout: float = 10.0) -> Any:
        task = qloop.create_task(coro)
        qtbot.waitUntil(task.done, timeout=int(timeout * 1000))
        return task.result()

    return run


@pytest.fixture
def gateway() -> Iterator[GatewayReplay]:
    with GatewayReplay() as server:
        yield server
