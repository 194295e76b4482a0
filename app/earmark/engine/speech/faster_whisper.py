"""The faster-whisper backend: Whisper on CTranslate2 (int8, CPU), tuned for short live turns.

Whisper's encoder normally sees 30 s of audio (the clip padded with silence). Encoding that on
2 cores takes ~0.8 s with tiny.en, which makes live partials late. Here the mel features are
built from the clip plus a short stretch of real silence only (the encoder accepts any length
up to 30 s): partials add `PARTIAL.pad_s`, finals `FINAL.pad_s`. Measured on 20 test files
(171 s) with tiny.en: WER 0.081 padded to 30 s, 0.081 with 8 s of silence, 0.105 with 2 s,
0.203 with none (the decoder then loops), at under half the cost. On prefixes of 0.5-6 s (the
partials) 2 s of silence gave 0.20 "prefix WER" against 0.25 with 1 s. A cap on the generated
length and a no-repeat n-gram rule stop the remaining loops on very short clips. Finals use a
beam of 3: on the 20 turns of the multispeaker file WER 0.131 greedy, 0.108 beam 3 (same as
beam 5), for 16 % more decode time.
"""

from __future__ import annotations

import logging
from itertools import groupby
from pathlib import Path

import numpy as np

from ..audio import MODEL_RATE
from ..threads import default_cpu_threads
from .backend import EMPTY, MAX_CLIP_S, Decoded, DecodedWord, DecodeProfile
from .model_files import DEFAULT_MODEL, resolve_model

log = logging.getLogger(__name__)

# CTranslate2's Whisper `generate` returns at most min(max_length - len(prompt) + 1,
# max_length / 2) tokens, a forced prefix included (measured with 4.8.5), so a cap of N new
# tokens after a prefix of F needs max_length = len(prompt) + 2 * (N + F). Passing
# len(prompt) + N silently cut every final longer than ~3 tokens per second of audio short,
# dropping the turn's last words.
MAX_LENGTH = 448
# Whisper sometimes repeats a phrase at the end of a short clip; cross-attention alignment
# gives the invented words no duration. On the multispeaker test file, dropping runs of 3+
# zero-length words removed two such loops (and no real words).
UNALIGNED_RUN = 3


PARTIAL = DecodeProfile(pad_s=2.0, tokens_per_s=4.5, no_repeat_ngram=3)
FINAL = DecodeProfile(pad_s=8.0, tokens_per_s=6.0, no_repeat_ngram=4, beam_size=3)
_PREPEND = "\"'“¿([{-"
_APPEND = "\"'.。,，!！?？:：”)]}、"


class FasterWhisperBackend:
    """One loaded Whisper model, shared by all sessions (CTranslate2 calls are thread-safe and
    release the GIL). `decode` blocks: call it from a worker thread. `workers` decodes run at
    once (CTranslate2 replicas sharing the weights), so a final need not wait for a partial."""

    def __init__(self, name: str = DEFAULT_MODEL, *, model_dir: str | None = None,
                 allow_download: bool = False, cpu_threads: int = 0,
                 compute_type: str = "int8", workers: int = 1) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        path = resolve_model(name, model_dir=model_dir, allow_download=allow_download)
        threads = cpu_threads or default_cpu_threads()
        try:
            self._model = WhisperModel(path, device="cpu", compute_type=compute_type,
                                       cpu_threads=threads, num_workers=workers,
                                       download_root=model_dir,
                                       local_files_only=not allow_download)
        except Exception as exc:  # huggingface_hub raises several kinds for "not cached"
            if not allow_download and not Path(path).is_dir():
                raise RuntimeError(
                    f"speech model {name!r} is not available locally and downloading is off; "
                    "pass a CTranslate2 Whisper directory, or allow downloads "
                    "(--allow-download)") from exc
            raise
        self.name = name
        multilingual = self._model.model.is_multilingual
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, multilingual, task="transcribe",
                                    language="en" if multilingual else None)
        self._features = self._model.feature_extractor
        log.info("speech model %s loaded from %s (%d x %d threads, %s)", name, path, workers,
                 threads, compute_type)

    def warm_up(self) -> None:
        t = np.linspace(0, 1, MODEL_RATE, dtype=np.float32)
        self.decode(0.1 * np.sin(2 * np.pi * 220 * t), final=True)

    def decode(self, audio: np.ndarray, *, final: bool, keyterms: tuple[str, ...] = (),
               prefix: str = "") -> Decoded:
        """Transcribe one clip (≤ 30 s, 16 kHz float32) with word timings. `prefix` is what was
        already said at the start of the clip (the end of the previous turn): Whisper is made
        to begin with it, so the new words are decoded in their sentence, and it is left out
        of the result."""
        audio = audio[: int(MAX_CLIP_S * MODEL_RATE)]
        seconds = len(audio) / MODEL_RATE
        if seconds < 0.1:
            return EMPTY
        profile = FINAL if final else PARTIAL
        pad = min(profile.pad_s, MAX_CLIP_S - seconds)
        padded = np.concatenate([audio, np.zeros(int(pad * MODEL_RATE), np.float32)])
        feats = self._features(padded, padding=0)
        feats = feats[:, : feats.shape[1] // 2 * 2]
        encoded = self._model.encode(feats)
        tok = self._tokenizer
        forced = tok.encode(" " + prefix.strip()) if prefix.strip() else []
        prompt = [*tok.sot_sequence, tok.no_timestamps, *forced]
        if keyterms:
            context = tok.encode(" " + ", ".join(keyterms))[-120:]
            prompt = [tok.sot_prev, *context, *prompt]
        cap = int(seconds * profile.tokens_per_s) + 6
        result = self._model.model.generate(
            encoded, [prompt], beam_size=profile.beam_size,
            max_length=min(MAX_LENGTH, len(prompt) + 2 * (cap + len(forced))),
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            no_repeat_ngram_size=profile.no_repeat_ngram,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
        if tokens[: len(forced)] == forced:  # CTranslate2 returns the prefix too
            tokens = tokens[len(forced):]
        if not tokens:
            return EMPTY
        # scores are length-normalised (as in faster-whisper's avg_logprob)
        logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        if result.no_speech_prob > 0.6 and logprob < -1.0:
            return EMPTY
        content_frames = len(audio) // self._features.hop_length
        alignment = self._model.find_alignment(tok, [forced + tokens], encoded,
                                               content_frames)[0]
        from faster_whisper.transcribe import merge_punctuations

        merge_punctuations(alignment, _PREPEND, _APPEND)
        words = _drop_unaligned_runs([
            DecodedWord(w["word"].strip(), min(float(w["start"]), seconds),
                        min(float(w["end"]), seconds), float(w["probability"]))
            for w in _after_tokens(alignment, len(forced)) if w["word"].strip()
        ])
        return Decoded(" ".join(w.text for w in words), tuple(words))


def _after_tokens(alignment: list[dict], count: int) -> list[dict]:
    """The aligned words after the first `count` tokens (the forced prefix)."""
    seen = 0
    for i, word in enumerate(alignment):
        if seen >= count:
            return alignment[i:]
        seen += len(word["tokens"])
    return []


def _drop_unaligned_runs(words: list[DecodedWord]) -> list[DecodedWord]:
    """Drop runs of UNALIGNED_RUN or more words that the alignment squeezed into no time at
    all: text the audio does not hold, typically a phrase repeated at the end of a clip."""
    kept: list[DecodedWord] = []
    for unaligned, group in groupby(words, key=lambda w: w.end <= w.start):
        run = list(group)
        if not (unaligned and len(run) >= UNALIGNED_RUN):
            kept.extend(run)
    return kept
