"""Every word kept when the connection breaks: a session on the real embedded engine through
a TCP proxy that resets, closes or stalls the connection mid-session, and one whose engine
process is killed. The saved transcript must hold what a run without the fault holds, with
no turn twice and the turn numbers continuous."""

from __future__ import annotations

import os
import re
import signal

import numpy as np
import pytest
import soundfile as sf

from earmark.controllers.live_session import LiveSessionController, SessionConfig
from earmark.core.protocol import Endpoint, StreamingParams, local_endpoint
from earmark.core.session import SavedSession, SessionStore
from earmark.workers.engine_host import EngineHost, EngineState
from earmark.workers.file_source import FAST, FileSource
from tests.conftest import speech_file
from tests.engine.engine_support import wer
from tests.support.qt_wait import wait_for
from tests.support.tcp_proxy import TcpProxy

PARTS = ["misc/jfk.wav", "librispeech/test-clean/1089-134686-0002.wav",
         "cmu_arctic/cmu_arctic_us_aew_a0001.wav", "librispeech/test-clean/1221-135766-0002.wav",
         "cmu_arctic/cmu_arctic_us_aew_a0003.wav"]
GAP_S = 1.2  # a pause between the parts: each one is a turn


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> tuple[str, str]:
    """(a 34 s WAV of five speakers' sentences, its reference text)."""
    gap = np.zeros(int(16000 * GAP_S), dtype="int16")
    audio, texts = [], []
    for part in PARTS:
        samples, rate = sf.read(speech_file(part), dtype="int16")
        assert rate == 16000
        audio += [samples, gap]
        texts.append(speech_file(part).with_suffix(".txt").read_text().strip())
    path = tmp_path_factory.mktemp("speech") / "five.wav"
    sf.write(path, np.concatenate(audio), 16000)
    return str(path), " ".join(texts)


@pytest.fixture
def proxy(host):
    proxy = TcpProxy(port_of(host.endpoint()))
    yield proxy
    proxy.close()


def port_of(endpoint: Endpoint) -> int:
    return int(re.search(r":(\d+)/", endpoint.streaming_url).group(1))


def through(proxy: TcpProxy, host: EngineHost):
    """Where the session connects (again): the proxy, aimed at the engine as it is now."""
    def endpoint() -> Endpoint:
        if host.state != EngineState.READY:
            raise RuntimeError(f"the engine is {host.state.value}")
        real = host.endpoint()
        proxy.retarget(port_of(real))
        return local_endpoint("127.0.0.1", proxy.port, real.credential)
    return endpoint


def transcribe(tmp_path, path: str, endpoint, fault=None) -> SavedSession:
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    controller = LiveSessionController(store)
    config = SessionConfig(endpoint(), StreamingParams(sample_rate=16000, format_turns=True),
                           "Embedded engine", lambda: FileSource(path, speed=FAST),
                           from_file=True, reconnect_to=endpoint, retry_for_s=90)
    ended: list[str] = []
    controller.session_ended.connect(ended.append)
    controller.start_session(config)
    if fault is not None:
        wait_for(lambda: len(controller.assembler.final_turns) >= 2, 60)
        fault()
    wait_for(lambda: bool(ended), 180)
    assert controller.complete, ended
    return store.load(controller.saved_folder)


def text_of(session: SavedSession) -> str:
    return " ".join(turn.text for turn in session.turns)


def assert_whole(session: SavedSession) -> None:
    """Turn numbers 0..n-1 on one clock, and no words said twice across a seam."""
    orders = [turn.turn_order for turn in session.turns]
    assert orders == list(range(len(orders)))
    starts = [turn.words[0].start_ms for turn in session.turns if turn.words]
    assert starts == sorted(starts)
    words = re.findall(r"[a-z']+", text_of(session).lower())
    grams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    assert len(grams) == len(set(grams)), "a run of words appears twice"
    assert session.meta.status == "complete"


@pytest.fixture(scope="module")
def clean_wer(speech, host, qapp, tmp_path_factory):
    """The same file without a fault: what the faulty runs are held to."""
    proxy = TcpProxy(port_of(host.endpoint()))
    try:
        session = transcribe(tmp_path_factory.mktemp("clean"), speech[0], through(proxy, host))
    finally:
        proxy.close()
    assert_whole(session)
    return wer(speech[1], text_of(session))


@pytest.mark.parametrize("how", ["rst", "fin", "stall"])
def test_a_broken_connection_loses_no_word(tmp_path, speech, host, proxy, clean_wer, how):
    session = transcribe(tmp_path, speech[0], through(proxy, host),
                         fault=lambda: proxy.cut(how))
    assert proxy.connections >= 2  # it did reconnect
    assert_whole(session)
    assert wer(speech[1], text_of(session)) <= clean_wer * 1.05, text_of(session)


def test_a_killed_engine_loses_no_word(tmp_path, speech, host, proxy, clean_wer):
    first = host.pid

    def kill() -> None:
        os.kill(first, signal.SIGKILL)

    session = transcribe(tmp_path, speech[0], through(proxy, host), fault=kill)
    assert host.pid != first
    assert_whole(session)
    assert wer(speech[1], text_of(session)) <= clean_wer * 1.05, text_of(session)
