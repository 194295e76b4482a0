"""Streaming resampling to 16 kHz mono frames: the spectrum of pure tones and real speech."""

from __future__ import annotations

import shutil
import subprocess
import wave

import numpy as np
import pytest

from earmark.core.audio import FRAME_BYTES, SAMPLE_RATE
from earmark.core.resample import FrameResampler, float_to_pcm16, pcm16_to_float
from tests.conftest import speech_file

SPEECH = "librispeech/test-clean/1221-135766-0002.wav"  # 4.8 s, 16 kHz mono


def tone(freq: float, rate: int, seconds: float = 2.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def run(resampler: FrameResampler, pcm: bytes, chunk_bytes: list[int]) -> np.ndarray:
    """Push `pcm` in chunks of the given sizes (cycled), as a device would deliver it."""
    frames, pos, i = [], 0, 0
    while pos < len(pcm):
        size = chunk_bytes[i % len(chunk_bytes)]
        resampler.push_pcm16(pcm[pos:pos + size])
        frames += resampler.frames()
        pos, i = pos + size, i + 1
    resampler.flush()
    frames += resampler.frames()
    assert {len(f) for f in frames} == {FRAME_BYTES}
    assert resampler.pop_frame() is None
    return np.frombuffer(b"".join(frames), dtype="<i2").astype(np.float64) / 32768


def spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = x[SAMPLE_RATE // 4: -SAMPLE_RATE // 4]  # away from the edges
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE), mag


def band_limited(x: np.ndarray, top: float = 7000.0) -> np.ndarray:
    spec = np.fft.rfft(x)
    spec[np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE) > top] = 0
    return np.fft.irfft(spec, len(x))


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("freq", [440.0, 1000.0, 7000.0])
def test_a_tone_lands_at_its_frequency(rate, freq):
    pcm = float_to_pcm16(tone(freq, rate))
    # odd chunk sizes: a 50 ms device buffer at 44.1 kHz is 2205 samples
    out = run(FrameResampler(rate), pcm, [2 * 2205, 2 * 1000 + 2, 2 * 37])
    assert abs(len(out) - 2 * SAMPLE_RATE) <= 800  # duration kept, to the frame
    freqs, mag = spectrum(out)
    assert abs(freqs[np.argmax(mag)] - freq) < 2
    near = np.abs(freqs - freq) < 40
    leaked = mag[~near].max() / mag[near].max()
    assert 20 * np.log10(leaked) < -70, "energy away from the tone"
    # and the amplitude survives (7 kHz is inside the pass band too)
    rms = np.sqrt(np.mean(out[SAMPLE_RATE // 4: -SAMPLE_RATE // 4] ** 2))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("rate", [44100, 48000])
@pytest.mark.parametrize("freq", [9000.0, 12000.0, 15000.0])
def test_tones_above_8khz_do_not_alias(rate, freq):
    """Without a proper low-pass, 12 kHz at 48 kHz would fold down to 4 kHz at 16 kHz."""
    out = run(FrameResampler(rate), float_to_pcm16(tone(freq, rate)), [4800])
    freqs, mag = spectrum(out)
    reference = spectrum(run(FrameResampler(rate),
                             float_to_pcm16(tone(1000.0, rate)), [4800]))[1].max()
    assert 20 * np.log10(max(mag.max(), 1e-12) / reference) < -60, (
        f"{freq} Hz aliased to {freqs[np.argmax(mag)]:.0f} Hz")


def test_stereo_is_mixed_to_mono():
    left, right = tone(1000.0, 48000, 1.0, 0.4), tone(1000.0, 48000, 1.0, 0.2)
    interleaved = float_to_pcm16(np.stack([left, right], axis=1).reshape(-1))
    out = run(FrameResampler(48000, channels=2), interleaved, [2 * 2 * 2400])
    rms = np.sqrt(np.mean(out[4000:-4000] ** 2))
    assert rms == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


def test_16khz_mono_passes_through_exactly():
    with wave.open(str(speech_file(SPEECH))) as w:
        pcm = w.readframes(w.getnframes())
    out = run(FrameResampler(16000), pcm, [999, 1600, 3])
    original = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    assert np.array_equal(out[: len(original)], original)
    assert not out[len(original):].any()  # the last frame is padded with silence


def test_chunking_does_not_change_the_result():
    pcm = float_to_pcm16(tone(440.0, 44100, 1.0))
    whole = run(FrameResampler(44100), pcm, [len(pcm)])
    pieces = run(FrameResampler(44100), pcm, [2 * 441, 2 * 7, 2 * 3000])
    assert len(whole) == len(pieces)
    assert np.max(np.abs(whole - pieces)) <= 2 / 32768


def test_pcm16_float_round_trip_is_exact():
    samples = np.array([-32768, -1, 0, 1, 12345, 32767], dtype="<i2").tobytes()
    assert float_to_pcm16(pcm16_to_float(samples)) == samples
    assert float_to_pcm16(np.array([2.0, -2.0])) == np.array([32767, -32768], "<i2").tobytes()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the resampled copies")
@pytest.mark.parametrize("rate", [44100, 48000])
def test_speech_resampled_back_matches_the_original(rate, tmp_path):
    """Speech upsampled by FFmpeg to a device rate, streamed back down: the same signal, in step
    (normalised correlation at lag 0: the filter adds no delay). Compared below 7 kHz, since
    the two resamplers' low-pass filters roll off differently in the last kHz before 8."""
    src = speech_file(SPEECH)
    up = subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-ar", str(rate), "-ac", "2",
                         "-f", "s16le", "-"], capture_output=True, check=True).stdout
    out = run(FrameResampler(rate, channels=2), up, [2 * 2 * rate // 20])
    with wave.open(str(src)) as w:
        original = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768
    assert abs(len(out) - len(original)) < 800
    n = min(len(out), len(original))
    a, b = band_limited(out[:n]), band_limited(original[:n])
    lags = range(-8, 9)
    corr = [np.dot(np.roll(a, k), b) / (np.linalg.norm(a) * np.linalg.norm(b)) for k in lags]
    assert max(corr) > 0.995
    assert list(lags)[int(np.argmax(corr))] == 0
