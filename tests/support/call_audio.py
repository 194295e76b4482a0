"""A call as two recordings: what the speakers play (the other side) and what the microphone
hears (the user, plus the other side's echo off the laptop's speakers), built from the
two-speaker fixture (LibriSpeech, CC BY 4.0) and its segment times."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from earmark.controllers.live_session import LiveSessionController, SessionConfig
from earmark.core.protocol import StreamingParams
from earmark.core.session import SavedSession, SessionStore
from earmark.workers.engine_host import EngineHost
from earmark.workers.file_source import FileSource
from tests.conftest import speech_file
from tests.support.qt_wait import wait_for

RATE = 16000
FIXTURE = "multispeaker/ms01_2spk_alternating_ls-test-other.wav"


@dataclass(frozen=True)
class Call:
    system: Path  # the other side, as the speakers play it
    microphone: Path  # the user, and the echo of the other side
    them: list[str]  # what the other side says, one sentence per turn
    you: list[str]  # what the user says


def build_call(folder: Path, *, turns: int = 4, echo_gain: float = 0.4,
               echo_delay_ms: int = 60) -> Call:
    """The fixture's first `turns` turns: its first speaker is the other side, its second
    the user; the microphone hears the other side at `echo_gain`, `echo_delay_ms` late."""
    audio, rate = sf.read(speech_file(FIXTURE), dtype="float32")
    assert rate == RATE
    segments = json.loads(speech_file(FIXTURE).with_suffix(".segments.json").read_text())
    segments = segments if isinstance(segments, list) else segments["segments"]
    segments = segments[:turns]
    end = int(segments[-1]["end"] * RATE) + RATE
    audio = audio[:end]
    first = segments[0]["speaker"]
    system, you = np.zeros_like(audio), np.zeros_like(audio)
    for seg in segments:
        span = slice(int(seg["start"] * RATE), int(seg["end"] * RATE))
        (system if seg["speaker"] == first else you)[span] = audio[span]
    delay = int(echo_delay_ms * RATE / 1000)
    echo = np.concatenate([np.zeros(delay, dtype="float32"), system[:len(system) - delay]])
    microphone = np.clip(you + echo_gain * echo, -1, 1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / "system.wav", folder / "microphone.wav"
    for path, samples in zip(paths, (system, microphone), strict=True):
        sf.write(path, samples, RATE, subtype="PCM_16")
    texts = [(seg["speaker"] == first, seg["text"]) for seg in segments]
    return Call(*paths, [t for them, t in texts if them], [t for them, t in texts if not them])


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def shares_a_run(text: str, sentence: str, n: int = 4) -> bool:
    """`text` holds some `n` words in a row of `sentence`."""
    said = words(sentence)
    grams = {tuple(said[i:i + n]) for i in range(len(said) - n + 1)}
    heard = words(text)
    return any(tuple(heard[i:i + n]) in grams for i in range(len(heard) - n + 1))


def assert_each_sentence_once(turns, call: Call) -> None:
    """Every sentence of the other side is in the other side's turns and in no "You" turn;
    every sentence of the user is in a "You" turn."""
    yours = [t.text for t in turns if t.speaker == "You"]
    theirs = [t.text for t in turns if t.speaker not in (None, "You")]
    for sentence in call.them:
        assert any(shares_a_run(text, sentence) for text in theirs), (sentence, theirs)
        assert not any(shares_a_run(text, sentence) for text in yours), (sentence, yours)
    for sentence in call.you:
        assert any(shares_a_run(text, sentence) for text in yours), (sentence, yours)


def run_call(host: EngineHost, call: Call, folder: Path, pace: float,
             check_echo: bool = True) -> tuple[LiveSessionController, SavedSession, str]:
    """`call` as the app runs one (both sides paced alike, as live audio is) on the embedded
    engine: (the controller, the saved session, the summary it ended with)."""
    store = SessionStore(folder / "sessions", use_trash=False)
    controller = LiveSessionController(store)
    params = StreamingParams(sample_rate=16000, format_turns=True, speaker_labels=True)
    config = SessionConfig(host.endpoint(), params, "Embedded engine",
                           lambda: FileSource(call.microphone, speed=pace),
                           system_source=lambda: FileSource(call.system, speed=pace),
                           from_file=True)
    ended: list[str] = []
    controller.session_ended.connect(ended.append)
    controller.start_session(config)
    if not check_echo:
        controller.cards.filter = None
    wait_for(lambda: bool(ended), 600)
    return controller, store.load(controller.saved_folder), ended[0]
