"""The voice encoder's front end in numpy, without librosa.

Resemblyzer's `wav_to_mel_spectrogram` is librosa's mel power spectrogram (not a log-mel): a
25 ms periodic Hann window every 10 ms, centred frames zero-padded at both ends (librosa >= 0.10),
|STFT|^2 through 40 Slaney-normalised mel bands from 0 to 8 kHz. `partial_starts` is its
`compute_partial_slices`: 1.6 s partials (160 frames) `rate` per second, the last one kept when
it is at least `min_coverage` covered. scripts/convert_speaker_model.py checks all of it
against librosa and resemblyzer.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s
TARGET_DBFS = -30.0  # resemblyzer's volume normalisation (only ever raises)

_F_SP = 200.0 / 3  # Slaney's mel scale: linear below 1 kHz, logarithmic above
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(hz, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    return np.where(hz >= _MIN_LOG_HZ, log_part, hz / _F_SP)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log_part = _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - _MIN_LOG_MEL))
    return np.where(mel >= _MIN_LOG_MEL, log_part, mel * _F_SP)


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT,
                   sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """librosa.filters.mel(sr, n_fft, n_mels) with its defaults (Slaney scale and norm):
    triangles of unit area, shape (n_mels, 1 + n_fft // 2)."""
    fft_hz = np.linspace(0.0, sample_rate / 2, 1 + n_fft // 2)
    edges = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(sample_rate / 2), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
_FILTERS_T = np.ascontiguousarray(mel_filterbank().T)


def mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """Mel power spectrogram of 16 kHz float audio: (1 + len // HOP, N_MELS) float32."""
    wav = np.asarray(wav, dtype=np.float32)
    padded = np.pad(wav, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = np.fft.rfft(frames * _WINDOW, axis=1)
    power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
    return power @ _FILTERS_T


def normalise_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Raise quiet audio to `target_dbfs` RMS (resemblyzer's `normalize_volume`,
    increase_only); louder audio is left alone."""
    rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64)))) if len(wav) else 0.0
    if rms <= 1e-9:
        return wav
    change_db = target_dbfs - 20 * np.log10(rms)
    if change_db <= 0:
        return wav
    return (wav * np.float32(10 ** (change_db / 20))).astype(np.float32)


def partial_starts(n_samples: int, rate: float, min_coverage: float = 0.75) -> list[int]:
    """First mel frame of each 1.6 s partial of an `n_samples` clip (resemblyzer's
    `compute_partial_slices`): one every 1/rate s; always at least one."""
    frame_step = round(SAMPLE_RATE / rate / HOP)
    if not 0 < frame_step <= PARTIAL_FRAMES:
        raise ValueError(f"rate {rate} gives a step of {frame_step} frames")
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    starts = list(range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step))
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(starts) > 1:
        starts.pop()
    return starts


def partial_mels(wav: np.ndarray, rate: float, min_coverage: float = 0.75) -> np.ndarray:
    """The partials of `wav` as a batch (n, PARTIAL_FRAMES, N_MELS), the clip zero-padded to
    cover the last one, as resemblyzer's `embed_utterance` does."""
    starts = partial_starts(len(wav), rate, min_coverage)
    needed = (starts[-1] + PARTIAL_FRAMES) * HOP
    if needed >= len(wav):
        wav = np.pad(wav, (0, needed - len(wav)))
    mel = mel_spectrogram(wav)
    return np.stack([mel[s:s + PARTIAL_FRAMES] for s in starts])
