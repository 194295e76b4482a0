"""What the controller tests share."""

from __future__ import annotations

import pytest

from earmark.workers.engine_host import EngineHost, EngineState
from tests.support.qt_wait import wait_for


@pytest.fixture(scope="module")
def host(qapp):
    """The embedded engine as the app runs it (a supervised child process), ready."""
    engine = EngineHost("whisper-tiny.en")
    engine.start()
    wait_for(lambda: engine.state == EngineState.READY, 120)
    yield engine
    engine.stop()
