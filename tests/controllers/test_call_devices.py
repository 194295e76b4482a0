"""A call through two virtual sound devices, in real time: the virtual microphone is the user,
a second null sink's monitor is system audio (the other side), and the microphone also hears
the other side off the speakers (a simulated echo). No sentence appears twice."""

from __future__ import annotations

import time

import pytest

from earmark.controllers.live_session import LiveSessionController, SessionConfig
from earmark.core.protocol import StreamingParams
from earmark.core.session import SessionStore
from earmark.core.session.paths import SYSTEM_AUDIO_FILE
from earmark.workers.audio_inputs import AudioInput, InputKind
from earmark.workers.audio_sources import MicrophoneSource
from tests.support.call_audio import assert_each_sentence_once, build_call
from tests.support.qt_wait import wait_for
from tests.support.virtual_mic import SPEAKERS_MONITOR, play, start_virtual_mic, stop

pytestmark = pytest.mark.slow

MICROPHONE = AudioInput("pulse:earmark_mic.monitor", "Virtual microphone", InputKind.SOURCE,
                        pulse_source="earmark_mic.monitor")
SPEAKERS = AudioInput(f"pulse:{SPEAKERS_MONITOR}", "System audio (virtual speakers)",
                      InputKind.SYSTEM_AUDIO, pulse_source=SPEAKERS_MONITOR)


@pytest.fixture(scope="module", autouse=True)
def virtual_devices():
    start_virtual_mic()


def test_a_call_through_two_devices_with_an_echo_shows_each_sentence_once(tmp_path, host):
    call = build_call(tmp_path / "audio", echo_gain=0.4)
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    controller = LiveSessionController(store)
    params = StreamingParams(sample_rate=16000, format_turns=True, speaker_labels=True)
    config = SessionConfig(host.endpoint(), params, "Embedded engine",
                           lambda: MicrophoneSource(device=MICROPHONE),
                           system_source=lambda: MicrophoneSource(device=SPEAKERS))
    ended: list[str] = []
    controller.session_ended.connect(ended.append)
    controller.start_session(config)
    wait_for(lambda: controller.state.value == "live", 30)
    time.sleep(0.3)  # both captures running
    players = [play(call.system, "speak"), play(call.microphone, "play")]
    try:
        wait_for(lambda: all(p.poll() is not None for p in players), 120)
        time.sleep(1.5)
    finally:
        for player in players:
            stop(player)
    controller.stop_session()
    wait_for(lambda: bool(ended), 60)
    session = store.load(controller.saved_folder)
    assert_each_sentence_once(session.turns, call)
    assert (session.folder / SYSTEM_AUDIO_FILE).stat().st_size > 16000 * 2 * 30
    assert session.meta.status == "complete", ended
