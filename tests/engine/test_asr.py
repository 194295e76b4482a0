"""The Whisper decoder on real speech: what a user reads in a final turn."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from earmark.engine.endpointing import TurnSettings, candidate_silence
from earmark.engine.speech import DecodedWord
from earmark.engine.speech.faster_whisper import FasterWhisperBackend, _drop_unaligned_runs
from earmark.engine.stream import PREROLL_MS
from earmark.engine.threads import limit_blas_threads, limit_openmp_threads
from earmark.engine.vad import FRAME_SAMPLES, VoiceActivity
from tests.engine.engine_support import normalise, speech

MULTISPEAKER = "multispeaker/ms01_2spk_alternating_ls-test-other.wav"


@pytest.fixture(scope="module")
def model() -> FasterWhisperBackend:
    return FasterWhisperBackend()


def _turn(text_start: str) -> tuple[np.ndarray, str]:
    """A reference segment cut like the engine cuts a turn: from PREROLL_MS before the first
    voiced frame to the default candidate silence after the last (where a speculative final
    is decoded)."""
    path = speech(MULTISPEAKER)
    audio, rate = sf.read(path, dtype="float32")
    segments = json.loads(path.with_suffix(".segments.json").read_text())
    seg = next(s for s in segments if s["text"].startswith(text_start))
    lo, hi = int(seg["start"] * rate), int(seg["end"] * rate)
    probs = VoiceActivity().process(audio[lo:hi])
    voiced = [i for i, p in enumerate(probs) if p >= 0.5]
    start = lo + voiced[0] * FRAME_SAMPLES - PREROLL_MS * rate // 1000
    pause = int(candidate_silence(TurnSettings()))
    end = lo + (voiced[-1] + 1) * FRAME_SAMPLES + pause * rate // 1000
    return audio[start:end], seg["text"]


def test_a_fast_turn_is_decoded_to_its_last_words(model: FasterWhisperBackend):
    # ~3.7 words per second: a token cap that is too tight drops the end of the turn
    for start in ("WELL THE BEST", "MISTER FISH"):
        clip, ref = _turn(start)
        text = normalise(model.decode(clip, final=True).text)
        last = normalise(ref).split()[-2:]
        assert text.split()[-2:] in (last, ["a", "night"]), text


def _w(text: str, start: float, end: float) -> DecodedWord:
    return DecodedWord(text, start, end, 0.9)


def test_runs_of_words_without_duration_are_dropped_single_ones_kept():
    words = [_w("but", 0.0, 0.4), _w("i'll", 0.4, 0.8), _w("I", 0.8, 0.8),
             _w("swear", 0.8, 1.1), _w("it", 1.1, 1.1), _w("it", 1.1, 1.1),
             _w("again", 1.1, 1.1), _w("end", 1.1, 1.5)]
    assert [w.text for w in _drop_unaligned_runs(words)] == ["but", "i'll", "I", "swear", "end"]
    tail = [_w("best", 0.0, 0.5), _w("high", 0.9, 0.9), _w("best", 0.9, 0.9),
            _w("qualities", 0.9, 0.9)]
    assert [w.text for w in _drop_unaligned_runs(tail)] == ["best"]


def test_cpu_threads_size_the_openmp_pool_unless_the_user_did(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    limit_openmp_threads(1)
    assert os.environ["OMP_NUM_THREADS"] == "1"
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    limit_openmp_threads(1)
    assert os.environ["OMP_NUM_THREADS"] == "3"


def test_numpy_blas_runs_on_one_thread_once_limited():
    from threadpoolctl import threadpool_info

    limit_blas_threads()
    blas = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(p["num_threads"] == 1 for p in blas)


def test_a_forced_prefix_is_decoded_after_but_not_returned(model):
    """A final decoded with the previous turn's end as context holds only its own words,
    timed within the clip."""
    audio, _ = sf.read(speech("misc/jfk.wav"), dtype="float32")
    decoded = model.decode(audio, final=True, prefix="And so, my fellow Americans,")
    assert normalise(decoded.text).startswith("ask not what your country can do for you")
    assert "americans" not in normalise(decoded.text)
    assert 2.5 < decoded.words[0].start < decoded.words[-1].end <= len(audio) / 16000
