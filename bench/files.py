"""Benchmark `earmark transcribe` on the speech corpus: wall time per hour of audio, and its WER
next to the same files streamed live through the engine's websocket.

Two passes over the files of ../shared/speech/manifest.tsv (145 files, 18.4 min of audio; the
noise-only file has no words):

* batch: one `python -m earmark transcribe --format json` call with every file (the embedded
  engine, fed as fast as it keeps up), in a tmp home (default settings: whisper-tiny.en, no
  per-turn LLM; its own session library and log). Prints its wall time per hour of audio, with
  the engine's start, and the sum of the files' own times ("Took … s" on stderr) per hour;
* live: the same files through bench/engine.py's websocket client at `--live-pace` (4x by
  default, as that bench's corpus pass: final turns do not depend on the pace; `--live-pace 1`
  is real time and takes as long as the audio).

WER: formatted finals against the references, both through Whisper's English normaliser
(bench/engine.py's helpers).

    .venv/bin/python bench/files.py                  # all 145 files (~7 min)
    .venv/bin/python bench/files.py --files 30       # 30 files spread over the corpus (~1.5 min)
    .venv/bin/python bench/files.py --live-pace 1    # the live pass at real time (~25 min)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

from earmark.core.session import from_json

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine import REPO, Engine, Result, corpus_files, name_of, run_files, wer  # bench/engine.py

TOOK = re.compile(r"Took (\d+(?:\.\d+)?) s\.")


def spread(paths: list[Path], count: int | None) -> list[Path]:
    """`count` files evenly spaced over the manifest (it is grouped by source), or all."""
    if not count or count >= len(paths):
        return paths
    step = len(paths) / count
    return [paths[int(i * step)] for i in range(count)]


def link_name(path: Path) -> str:
    """A unique file name for a corpus file (its relative path, flattened)."""
    return name_of(path).replace("/", "__")


def run_batch(paths: list[Path], work: Path) -> tuple[float, float, dict[str, str]]:
    """`earmark transcribe` on every file: (wall s, the files' own s, hypothesis by name)."""
    inputs = work / "in"
    inputs.mkdir()
    links = []
    for path in paths:
        link = inputs / link_name(path)
        link.symlink_to(path)
        links.append(link)
    env = {**os.environ, "XDG_CONFIG_HOME": str(work / "config"),
           "XDG_DATA_HOME": str(work / "data"), "XDG_STATE_HOME": str(work / "state"),
           "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO / "app")}
    command = [sys.executable, "-m", "earmark", "transcribe", "--format", "json", "--out",
               str(work / "out"), *map(str, links)]
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"earmark transcribe exited with {done.returncode}")
    own = sum(float(m.group(1)) for m in TOOK.finditer(done.stderr))
    hyps = {name_of(p): " ".join(t.text for t in from_json(
        (work / "out" / f"{Path(link_name(p)).stem}.json").read_text()).turns) for p in paths}
    return wall, own, hyps


def run_live(paths: list[Path], pace: float) -> list[Result]:
    engine = Engine("whisper-tiny.en")
    try:
        return run_files(engine, paths, pace, "live")
    finally:
        engine.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--files", type=int, default=None,
                   help="this many files spread over the corpus (default: all)")
    p.add_argument("--live-pace", type=float, default=4.0, help="1.0 = real time (default 4)")
    args = p.parse_args(argv)
    paths = spread(corpus_files(), args.files)
    audio_s = sum(sf.info(path).duration for path in paths)
    print(f"{len(paths)} files, {audio_s / 60:.1f} min of audio; load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="earmark-bench-files-") as work:
        wall, own, hyps = run_batch(paths, Path(work))
    print(f"earmark transcribe: {wall:.1f} s ({own:.1f} s in the files' sessions)", flush=True)
    live = run_live(paths, args.live_pace)
    batch = [Result(r.name, r.audio_s, r.ref, hyp=hyps[r.name]) for r in live]
    hours = audio_s / 3600
    differ = sum(r.hyp != b.hyp for r, b in zip(live, batch, strict=True))
    print()
    print(f"files bench: {len(paths)} files, {audio_s / 60:.1f} min of audio, whisper-tiny.en, "
          f"{os.cpu_count()} cores")
    print("| metric | value |")
    print("|---|---|")
    print(f"| `earmark transcribe` wall time per hour of audio (with the engine's start) | "
          f"{wall / hours:.0f} s ({audio_s / wall:.1f}x real time) |")
    print(f"| the files' own time per hour of audio (start of a session to its end) | "
          f"{own / hours:.0f} s ({audio_s / own:.1f}x real time) |")
    print(f"| WER `earmark transcribe` | {wer(batch, 'hyp'):.3f} |")
    print(f"| WER live at {args.live_pace:g}x | {wer(live, 'hyp'):.3f} |")
    print(f"| files whose transcripts differ | {differ} of {len(paths)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
