"""Benchmark the embedded engine's speech side like a client would see it.

Starts `python -m earmark.engine` in a subprocess and streams WAV files from shared/speech
through the v3 websocket (50 ms chunks). Two passes:

* real time: the multispeaker file and 8 single files (273 s). Prints first-partial latency
  after speech onset and final latency after speech end (p50/p95), CPU seconds of the engine
  process per audio second, its peak RSS, and the WER of these files;
* corpus: every speech file in shared/speech (145 files, 20 min, 2,652 words) at `--corpus-pace`
  (4x by default). Final turns do not depend on the pace (the engine places turn boundaries on
  the stream clock and waits for any decode a boundary needs), so this WER is the one the
  real-time pass would give, over four times the words: the 9-file set has 630 words, where one
  word is 0.16 points of WER.

WER: formatted finals against the reference, both through Whisper's English text normaliser
(case, punctuation, spelled-out numbers, British spellings, contractions), next to the same
model's offline WER (faster-whisper `transcribe` on the whole file, beam 5).

Speech onset/end: the turns of `multispeaker/*.segments.json`; on single-utterance files the
first and last Silero VAD frame above 0.5.

    .venv/bin/python bench/engine.py            # both passes (~12 min)
    .venv/bin/python bench/engine.py --no-corpus  # the real-time pass only (~5 min)
    .venv/bin/python bench/engine.py --quick    # 3 short files, no multispeaker (~30 s)
    .venv/bin/python bench/engine.py --files 20 --speech-model whisper-base
    .venv/bin/python bench/engine.py --final-speech-model whisper-base  # tiny partials, base finals
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import jiwer
import numpy as np
import soundfile as sf
import websocket
from whisper_normalizer.english import EnglishTextNormalizer

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO.parent / "shared" / "speech"
SINGLE_FILES = [
    "librispeech/test-clean/1089-134686-0002.wav",
    "misc/jfk.wav",
    "ljspeech/LJ001-0001.wav",
    "vctk/p225_001.wav",
    "librispeech/test-other/1688-142285-0000.wav",
    "cmu_arctic/cmu_arctic_us_aew_a0003.wav",
    "fleurs_en/" + "{first}",
    "librivox/" + "{first}",
    "ljspeech/LJ001-0002.wav",
    "librispeech/test-clean/1221-135766-0002.wav",
    "speechocean762/" + "{first}",
    "librispeech/dev-clean/2412-153948-0000.wav",
]
QUICK_FILES = ["cmu_arctic/cmu_arctic_us_aew_a0001.wav", "misc/jfk.wav",
               "librispeech/test-clean/1221-135766-0002.wav"]
CHUNK_MS = 50


_NORMALISER = EnglishTextNormalizer()


def normalise(text: str) -> str:
    return _NORMALISER(text)


def name_of(path: Path) -> str:
    return str(path.relative_to(SPEECH))


def resolve(name: str) -> Path:
    if "{first}" in name:
        folder = SPEECH / name.split("/")[0]
        return sorted(folder.rglob("*.wav"))[0]
    return SPEECH / name


@dataclass
class Result:
    name: str
    audio_s: float
    ref: str
    hyp: str = ""
    offline: str = ""
    first_partial: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)


# --- the engine process ---------------------------------------------------------------------


class Engine:
    def __init__(self, speech_model: str, cpu_threads: int = 0,
                 final_speech_model: str | None = None) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO / "app")}
        final = ["--final-speech-model", final_speech_model] if final_speech_model else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "earmark.engine", "--port", "0", "--log-level", "WARNING",
             "--speech-model", speech_model, "--cpu-threads", str(cpu_threads), *final],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        self.ws_url = self.token = ""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "ws":
                self.ws_url = value
            elif key == "token":
                self.token = value
            elif key == "speech":
                if value != "ready":
                    raise SystemExit(f"engine: {value}")
                break

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# --- one file through the websocket ---------------------------------------------------------


def stream_file(engine: Engine, path: Path, pace: float) -> tuple[list[tuple[float, dict]], float]:
    """Messages with their arrival time on the audio clock (s since the first chunk)."""
    audio, rate = sf.read(path, dtype="int16")
    return stream_pcm(engine, audio.tobytes(), rate, {}, pace, 30), len(audio) / rate


def stream_pcm(engine: Engine, pcm: bytes, rate: int, params: dict[str, str], pace: float,
               wait_s: float) -> list[tuple[float, dict]]:
    """Stream `pcm` (and 2 s of silence) in CHUNK_MS chunks at `pace`, then Terminate: every
    message, with its arrival time (s since the first chunk); waits `wait_s` at most for the
    last ones."""
    data = pcm + bytes(2 * rate * 2)
    query = urlencode({"sample_rate": rate, "format_turns": "true", **params})
    ws = websocket.create_connection(f"{engine.ws_url}?{query}",
                                     header={"Authorization": engine.token})
    messages: list[tuple[float, dict]] = []
    t0 = [0.0]

    def read() -> None:
        while True:
            try:
                text = ws.recv()
            except Exception:
                return
            if not text:
                return
            messages.append((time.monotonic() - t0[0], json.loads(text)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    step = rate * 2 * CHUNK_MS // 1000
    t0[0] = time.monotonic()
    for i, start in enumerate(range(0, len(data), step)):
        ws.send_binary(data[start:start + step])
        delay = t0[0] + (i + 1) * CHUNK_MS / 1000 / pace - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    ws.send(json.dumps({"type": "Terminate"}))
    reader.join(wait_s)
    ws.close()
    return messages


def speech_spans(path: Path) -> list[tuple[float, float]]:
    """(onset, end) of each turn in seconds: the first and last VAD frame above 0.5 inside each
    reference segment (the segments keep their source files' leading and trailing silence),
    or inside the whole file when it has no segments."""
    from earmark.engine.vad import FRAME_MS, VoiceActivity

    audio, _ = sf.read(path, dtype="float32")
    probs = VoiceActivity().process(audio)
    seg = path.with_suffix(".segments.json")
    spans = ([(s["start"], s["end"]) for s in json.loads(seg.read_text())] if seg.exists()
             else [(0.0, len(audio) / 16000)])
    result = []
    for start, end in spans:
        lo, hi = int(start * 1000 / FRAME_MS), int(end * 1000 / FRAME_MS)
        voiced = [i for i in range(lo, min(hi, len(probs))) if probs[i] >= 0.5]
        if voiced:
            result.append((voiced[0] * FRAME_MS / 1000, (voiced[-1] + 1) * FRAME_MS / 1000))
    return result


def latencies(messages: list[tuple[float, dict]], spans: list[tuple[float, float]],
              pace: float) -> tuple[list[float], list[float]]:
    turns = [(t * pace, m) for t, m in messages if m.get("type") == "Turn"]
    first, final = [], []
    for onset, end in spans:
        partial = next((t for t, m in turns if t >= onset and m["words"]
                        and m["words"][-1]["end"] >= onset * 1000), None)
        if partial is not None:
            first.append(partial - onset)
        eot = next((t for t, m in turns if t >= end and m["end_of_turn"]
                    and m["words"] and m["words"][-1]["end"] >= end * 1000 - 1500), None)
        if eot is not None:
            final.append(eot - end)
    return first, final


def offline_transcript(model, path: Path) -> str:
    segments, _ = model.transcribe(str(path), language="en", beam_size=5, vad_filter=False)
    return " ".join(s.text.strip() for s in segments)


def pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "-"


def corpus_files() -> list[Path]:
    """Every speech file of the manifest (the noise-only file has no words)."""
    rows = (SPEECH / "manifest.tsv").read_text().splitlines()[1:]
    return [SPEECH / row.split("\t")[0] for row in rows
            if row and row.split("\t")[6] != "noise-only"]


def run_files(engine: Engine, paths: list[Path], pace: float, label: str) -> list[Result]:
    results = []
    for i, path in enumerate(paths, 1):
        messages, audio_s = stream_file(engine, path, pace)
        r = Result(name_of(path), audio_s,
                   path.with_suffix(".txt").read_text().strip())
        r.hyp = " ".join(m["transcript"] for _, m in messages
                         if m.get("type") == "Turn" and m["end_of_turn"]
                         and m["turn_is_formatted"])
        r.first_partial, r.final = latencies(messages, speech_spans(path), pace)
        results.append(r)
        print(f"  {label} {i}/{len(paths)} {r.name}: {len(r.first_partial)} onsets, "
              f"WER {wer([r], 'hyp'):.3f}", flush=True)
    return results


def wer(results: list[Result], attr: str) -> float:
    return jiwer.wer([normalise(r.ref) for r in results],
                     [normalise(getattr(r, attr)) or "-" for r in results])


def add_offline(results: list[Result], speech_model: str) -> None:
    from faster_whisper import WhisperModel

    from earmark.engine.speech.model_files import resolve_model

    model = WhisperModel(resolve_model(speech_model), device="cpu", compute_type="int8",
                         local_files_only=True)
    for r in results:
        r.offline = offline_transcript(model, SPEECH / r.name)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=8, help="single-utterance files (default 8)")
    p.add_argument("--quick", action="store_true", help="3 short files, no multispeaker")
    p.add_argument("--no-multispeaker", action="store_true")
    p.add_argument("--no-corpus", action="store_true", help="skip the corpus WER pass")
    p.add_argument("--speech-model", default="whisper-tiny.en")
    p.add_argument("--final-speech-model", default=None,
                   help="engine --final-speech-model: finals on this model (offline WER too)")
    p.add_argument("--cpu-threads", type=int, default=0, help="engine --cpu-threads")
    p.add_argument("--pace", type=float, default=1.0, help="1.0 = real time")
    p.add_argument("--corpus-pace", type=float, default=4.0)
    p.add_argument("--no-offline", action="store_true", help="skip the offline WER")
    args = p.parse_args(argv)

    names = QUICK_FILES if args.quick else SINGLE_FILES[: args.files]
    paths = [resolve(n) for n in names]
    if not (args.quick or args.no_multispeaker):
        paths = sorted((SPEECH / "multispeaker").glob("*.wav")) + paths
    corpus = [] if args.quick or args.no_corpus else corpus_files()

    load_before = os.getloadavg()
    engine = Engine(args.speech_model, args.cpu_threads, args.final_speech_model)
    try:
        cpu0 = engine.cpu_seconds()
        results = run_files(engine, paths, args.pace, "real time")
        cpu = engine.cpu_seconds() - cpu0
        rss = engine.peak_rss_mb()
        by_name = {r.name: r for r in results}  # finals do not depend on the pace: reuse them
        rest = [f for f in corpus if name_of(f) not in by_name]
        by_name.update((r.name, r) for r in run_files(engine, rest, args.corpus_pace, "corpus"))
    finally:
        engine.stop()
    corpus_results = [by_name[name_of(f)] for f in corpus]
    if not args.no_offline:
        add_offline(list(by_name.values()), args.final_speech_model or args.speech_model)

    audio_s = sum(r.audio_s for r in results) + 2 * len(results)
    first = [x for r in results for x in r.first_partial]
    final = [x for r in results for x in r.final]
    print()
    models = args.speech_model + (f" (finals: {args.final_speech_model})"
                                  if args.final_speech_model else "")
    print(f"engine bench: {len(results)} files, {audio_s:.0f} s of audio at {args.pace}x real "
          f"time, {models}, {os.cpu_count()} cores, load average before "
          f"{load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    print("| metric | value |")
    print("|---|---|")
    print_wer(f"{len(results)} files", results, not args.no_offline)
    if corpus_results:
        print_wer(f"corpus, {len(corpus_results)} files", corpus_results, not args.no_offline)
    print(f"| first partial after speech onset, p50 / p95 (s) | {pct(first, 50)} / "
          f"{pct(first, 95)} (n={len(first)}) |")
    print(f"| final after speech end, p50 / p95 (s) | {pct(final, 50)} / {pct(final, 95)} "
          f"(n={len(final)}) |")
    print(f"| engine CPU per audio second (s) | {cpu / audio_s:.3f} |")
    print(f"| engine peak RSS (MB) | {rss:.0f} |")
    print()
    print("| file | audio s | WER live | WER offline |")
    print("|---|---|---|---|")
    for r in results:
        off = f"{wer([r], 'offline'):.3f}" if r.offline else "-"
        print(f"| {r.name} | {r.audio_s:.1f} | {wer([r], 'hyp'):.3f} | {off} |")
    return 0


def print_wer(label: str, results: list[Result], offline: bool) -> None:
    words = sum(len(normalise(r.ref).split()) for r in results)
    line = f"| WER live, {label}, {words} words | {wer(results, 'hyp'):.3f}"
    if offline:
        line += f" (offline, same model, beam 5, whole file: {wer(results, 'offline'):.3f})"
    print(line + " |")


if __name__ == "__main__":
    sys.exit(main())
