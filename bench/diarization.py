"""Benchmark the embedded engine's live speaker labels (`speaker_labels=true`).

Starts `python -m earmark.engine` (bench/engine.py's `Engine`) and streams multi-speaker
recordings through the v3 websocket in 50 ms chunks, 2 s of silence after each:

* multispeaker/*.wav of shared/speech, with the true turns of its .segments.json (2 speakers,
  20 turns of 3-23 s);
* two recordings put together here from shared/speech files, with the true turns known:
  `ls-4spk` (4 LibriSpeech test-other speakers, 35 turns of 2-12 s, in shuffled rounds, 234 s)
  and `so-4spk` (4 non-native speakers of speechocean762, 12 turns of 3-5 s, 53 s; three are
  women of 19-25: hard);
* the AMI excerpt (one speaker, two short phrases, turns given in its manifest notes).

Per recording: the speaker error, the share of reference speech whose final turn carries
another speaker's label after the labels are matched one-to-one to the true speakers (the
matching that maximises the agreeing speech; exhaustive over subsets, as the Hungarian method
would find), on a 10 ms grid, duration-weighted; as first sent ("live") and after the
SpeakerRevision messages; speech under an UNKNOWN label counts as an error. Also the WER of the
formatted finals (Whisper's English normaliser) and the engine's CPU seconds per audio second
over all recordings, streamed without and with speaker labels (`--rounds` alternating passes:
one pass varies by ~10 %, more than labels add), plus the CPU time per audio second of the
labelling itself, done again in this process on the same turns (`--sweep`: and its speaker
error at other thresholds).

    .venv/bin/python bench/diarization.py --sweep      # real time (~17 min)
    .venv/bin/python bench/diarization.py --pace 4 --rounds 3   # 4x real time (~13 min)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import jiwer
import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import REPO, SPEECH, Engine, normalise, stream_pcm  # bench/engine.py

sys.path.insert(0, str(REPO / "app"))
GRID_MS = 10
AMI_TURNS = [(1.46, 2.82), (3.36, 4.36)]  # manifest notes of ami/ES2011a.Headset-0-40s-46s
LS_SPEAKERS = ["1688", "2033", "2414", "3005"]
SO_SPEAKERS = ["0024", "0120", "0157", "0461"]
Segment = tuple[float, float, str, str]  # start s, end s, speaker, text


@dataclass
class Recording:
    name: str
    pcm: np.ndarray  # int16, 16 kHz
    segments: list[Segment]

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 16000

    @property
    def speakers(self) -> int:
        return len({s[2] for s in self.segments})


@dataclass
class Outcome:
    recording: Recording
    messages: list[dict] = field(default_factory=list)


# --- recordings ------------------------------------------------------------------------------


def read_pcm(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="int16")
    assert rate == 16000, path
    return audio


def multispeaker() -> list[Recording]:
    result = []
    for seg in sorted((SPEECH / "multispeaker").glob("*.segments.json")):
        wav = seg.with_name(seg.name.replace(".segments.json", ".wav"))
        segments = [(s["start"], s["end"], s["speaker"], s["text"])
                    for s in json.loads(seg.read_text())]
        result.append(Recording(wav.stem, read_pcm(wav), segments))
    return result


def ami() -> Recording:
    path = SPEECH / "ami" / "ES2011a.Headset-0-40s-46s.wav"
    text = path.with_suffix(".txt").read_text().strip()
    segments = [(a, b, "ami0", text if i == 0 else "") for i, (a, b) in enumerate(AMI_TURNS)]
    return Recording("ami-1spk", read_pcm(path), segments)


def put_together(name: str, turns: list[tuple[str, Path]], seed: int) -> Recording:
    """The files one after another with 0.5-1.1 s of silence between them."""
    rng = np.random.default_rng(seed)
    pieces, segments, at = [np.zeros(8000, np.int16)], [], 0.5
    for speaker, path in turns:
        audio = read_pcm(path)
        segments.append((at, at + len(audio) / 16000, speaker,
                         path.with_suffix(".txt").read_text().strip()))
        gap = int(rng.uniform(0.5, 1.1) * 16000)
        pieces += [audio, np.zeros(gap, np.int16)]
        at += (len(audio) + gap) / 16000
    return Recording(name, np.concatenate(pieces), segments)


def rounds(files: dict[str, list[Path]], seed: int) -> list[tuple[str, Path]]:
    """Each round every speaker once, in a shuffled order."""
    rng = np.random.default_rng(seed)
    turns = []
    for i in range(max(len(v) for v in files.values())):
        for speaker in rng.permutation(sorted(files)):
            if i < len(files[speaker]):
                turns.append((str(speaker), files[speaker][i]))
    return turns


def librispeech_4() -> Recording:
    folder = SPEECH / "librispeech" / "test-other"
    files = {s: [p for p in sorted(folder.glob(f"{s}-*.wav")) if sf.info(p).duration <= 12.0]
             for s in LS_SPEAKERS}
    return put_together("ls-4spk", rounds(files, 1), 1)


def speechocean_4() -> Recording:
    folder = SPEECH / "speechocean762"
    files = {s: sorted(folder.glob(f"0{s}*.wav")) for s in SO_SPEAKERS}  # 000240071: 0024
    return put_together("so-4spk", rounds(files, 2), 2)


def recordings() -> list[Recording]:
    return [*multispeaker(), librispeech_4(), speechocean_4(), ami()]


# --- streaming -------------------------------------------------------------------------------


def stream(engine: Engine, pcm: np.ndarray, params: dict[str, str], pace: float) -> list[dict]:
    """Every message of a session that streams `pcm` (and 2 s of silence) at `pace`."""
    return [message for _, message in stream_pcm(engine, pcm.tobytes(), 16000, params, pace, 60)]


# --- scoring ---------------------------------------------------------------------------------


def labelled_turns(messages: list[dict], revised: bool) -> list[tuple[int, int, str]]:
    """(start ms, end ms, label) of each final turn: its last final message's label, then the
    SpeakerRevisions in arrival order (with `revised`)."""
    turns: dict[int, tuple[int, int, str]] = {}
    for m in messages:
        if m.get("type") == "Turn" and m["end_of_turn"] and m["words"]:
            turns[m["turn_order"]] = (m["words"][0]["start"], m["words"][-1]["end"],
                                      m.get("speaker_label") or "")
        elif m.get("type") == "SpeakerRevision" and revised:
            for r in m["revisions"]:
                if r["turn_order"] in turns:
                    start, end, _ = turns[r["turn_order"]]
                    turns[r["turn_order"]] = (start, end, r["speaker_label"])
    return list(turns.values())


def grid(segments: list[tuple[float, float, str]], length: int) -> list[str]:
    cells = [""] * length
    for start, end, who in segments:
        for i in range(int(start * 1000 / GRID_MS), min(length, int(end * 1000 / GRID_MS))):
            cells[i] = who
    return cells


def best_match(confusion: dict[tuple[str, str], float]) -> float:
    """The most agreeing time over one-to-one matchings of true speakers to labels (dynamic
    programming over subsets of labels: exact, like the Hungarian method, for ≤ 16 labels)."""
    refs = sorted({r for r, _ in confusion})
    hyps = sorted({h for _, h in confusion if h != "UNKNOWN"})[:16]
    best: dict[int, float] = {0: 0.0}
    for r in refs:
        nxt: dict[int, float] = {}
        for mask, value in best.items():
            nxt[mask] = max(nxt.get(mask, 0.0), value)
            for j, h in enumerate(hyps):
                if not mask >> j & 1:
                    key = mask | 1 << j
                    nxt[key] = max(nxt.get(key, 0.0), value + confusion.get((r, h), 0.0))
        best = nxt
    return max(best.values())


def speaker_error(rec: Recording, turns: list[tuple[int, int, str]]) -> tuple[float, float]:
    """(speaker error, share of reference speech under no final turn)."""
    length = int(rec.seconds * 1000 / GRID_MS) + 300
    ref = grid([(a, b, s) for a, b, s, _ in rec.segments], length)
    hyp = grid([(a / 1000, b / 1000, label) for a, b, label in turns], length)
    confusion: dict[tuple[str, str], float] = {}
    speech = missed = 0.0
    for r, h in zip(ref, hyp, strict=True):
        if not r:
            continue
        speech += 1
        if not h:
            missed += 1
        else:
            confusion[(r, h)] = confusion.get((r, h), 0.0) + 1
    covered = speech - missed
    error = 1.0 - best_match(confusion) / covered if covered else 1.0
    return error, missed / speech if speech else 0.0


def wer(rec: Recording, messages: list[dict]) -> float:
    hyp = " ".join(m["transcript"] for m in messages if m.get("type") == "Turn"
                   and m["end_of_turn"] and m["turn_is_formatted"])
    ref = " ".join(s[3] for s in rec.segments)
    return jiwer.wer(normalise(ref), normalise(hyp) or "-")


def relabel(outcome: Outcome, encoder: object, threshold: float,
            cpu: list[float]) -> tuple[float, float]:
    """The engine's final turns of `outcome` labelled again here (speakers/session.py, as the
    engine does) with `threshold`: (speaker error live, after the revision). Adds the CPU time
    of the labelling (time.thread_time) to cpu[0]."""
    from earmark.engine.speakers.session import SessionSpeakers, speech_spans

    audio = outcome.recording.pcm.astype(np.float32) / 32768.0
    speakers = SessionSpeakers(encoder, threshold=threshold)
    turns: dict[int, list] = {}
    started = time.thread_time()
    for m in outcome.messages:
        if m.get("type") == "Turn" and m["end_of_turn"] and m["turn_is_formatted"] and m["words"]:
            spans = speech_spans([(w["start"], w["end"]) for w in m["words"]], 0, 1e12)
            clip = np.concatenate([audio[int(a * 16):int(b * 16)] for a, b in spans])
            label = speakers.label_turn(m["turn_order"], clip)
            turns[m["turn_order"]] = [m["words"][0]["start"], m["words"][-1]["end"], label]
    live = [tuple(t) for t in turns.values()]
    for order, label in speakers.revisions().items():
        turns[order][2] = label
    cpu[0] += time.thread_time() - started
    return (speaker_error(outcome.recording, live)[0],
            speaker_error(outcome.recording, [tuple(t) for t in turns.values()])[0])


def offline(outcomes: list[Outcome], sweep: bool) -> None:
    """The voice encoder's own CPU per audio second; with `sweep`, the speaker error of other
    thresholds on the same turns."""
    from earmark.engine.speakers import VoiceEncoder
    from earmark.engine.speakers.clustering import THRESHOLD
    from earmark.engine.threads import limit_blas_threads

    limit_blas_threads()
    encoder, cpu = VoiceEncoder(), [0.0]
    for o in outcomes:
        relabel(o, encoder, THRESHOLD, cpu)
    audio_s = sum(o.recording.seconds + 2 for o in outcomes)
    print(f"voice encoder and clustering CPU per audio second (this process, one thread, the "
          f"same turns): {cpu[0] / audio_s * 1000:.1f} ms")
    if not sweep:
        return
    print()
    print("| threshold | " + " | ".join(o.recording.name[:12] for o in outcomes) + " |")
    print("|---" * (len(outcomes) + 1) + "|")
    for threshold in (0.25, 0.28, 0.30, 0.32, 0.35, 0.38):
        cells = [relabel(o, encoder, threshold, [0.0]) for o in outcomes]
        print(f"| {threshold:.2f} | " + " | ".join(f"{a:.3f} / {b:.3f}" for a, b in cells) + " |")


# --- the run ---------------------------------------------------------------------------------


def run(engine: Engine, recs: list[Recording], params: dict[str, str],
        pace: float) -> tuple[list[Outcome], float]:
    """The outcomes and the engine's CPU seconds for streaming all of `recs`."""
    cpu0 = engine.cpu_seconds()
    outcomes = []
    for rec in recs:
        outcomes.append(Outcome(rec, stream(engine, rec.pcm, params, pace)))
        print(f"  {rec.name} ({'labels' if params else 'no labels'}) done", flush=True)
    return outcomes, engine.cpu_seconds() - cpu0


def report(outcomes: list[Outcome]) -> None:
    print("| recording | audio s | speakers | labels (live / revised) | speaker error live | "
          "after revision | revisions | speech under no turn | WER |")
    print("|---|---|---|---|---|---|---|---|---|")
    for o in outcomes:
        live, revised = labelled_turns(o.messages, False), labelled_turns(o.messages, True)
        e_live, missed = speaker_error(o.recording, live)
        e_rev, _ = speaker_error(o.recording, revised)
        n_rev = sum(len(m["revisions"]) for m in o.messages
                    if m.get("type") == "SpeakerRevision")
        print(f"| {o.recording.name} | {o.recording.seconds:.0f} | {o.recording.speakers} | "
              f"{len({t[2] for t in live})} / {len({t[2] for t in revised})} | {e_live:.3f} | "
              f"{e_rev:.3f} | {n_rev} turns | {missed:.3f} | {wer(o.recording, o.messages):.3f} |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pace", type=float, default=1.0, help="1.0 = real time")
    p.add_argument("--speech-model", default="whisper-tiny.en")
    p.add_argument("--cpu-threads", type=int, default=0, help="engine --cpu-threads")
    p.add_argument("--no-baseline", action="store_true", help="skip the pass without labels")
    p.add_argument("--rounds", type=int, default=1,
                   help="passes without and with labels, alternating (the engine's CPU per "
                        "audio second varies by ~10 %% from pass to pass)")
    p.add_argument("--sweep", action="store_true",
                   help="also the speaker error of other thresholds on the same turns")
    args = p.parse_args(argv)
    recs = recordings()
    audio_s = sum(r.seconds + 2 for r in recs)
    engine = Engine(args.speech_model, args.cpu_threads)
    base_cpu: list[float] = []
    cpu: list[float] = []
    try:
        for _ in range(args.rounds):
            if not args.no_baseline:
                base_cpu.append(run(engine, recs, {}, args.pace)[1] / audio_s)
            outcomes, spent = run(engine, recs, {"speaker_labels": "true"}, args.pace)
            cpu.append(spent / audio_s)
    finally:
        engine.stop()
    print()
    print(f"diarization bench: {len(recs)} recordings, {audio_s:.0f} s of audio at {args.pace}x "
          f"real time, {args.speech_model}")
    report(outcomes)
    print()
    line = f"engine CPU per audio second: {np.mean(cpu):.3f} s with speaker labels"
    if base_cpu:
        line += (f", {np.mean(base_cpu):.3f} s without "
                 f"({(np.mean(cpu) / np.mean(base_cpu) - 1) * 100:+.1f} %)")
    passes = ", ".join(f"{c:.3f}" for c in cpu)
    base = ", ".join(f"{c:.3f}" for c in base_cpu) or "-"
    print(f"{line}; per pass: with {passes}; without {base}")
    offline(outcomes, args.sweep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
