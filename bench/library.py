"""How fast the session library lists and searches N sessions.

    .venv/bin/python bench/library.py [--sessions 1000] [--turns 30]

Builds the sessions in a temporary folder (real session.json / transcript.jsonl / llm.jsonl
files, as the recorder writes them), then times list_sessions() without and with the index
file, load() of one session, and search().
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from earmark.core.session import (
    AnswerRecord,
    SessionMeta,
    SessionStatus,
    SessionStore,
    TurnRecord,
    WordRecord,
)
from earmark.core.session.jsonl import encode_line
from earmark.core.session.library import INDEX_FILE
from earmark.core.session.metafile import write_meta
from earmark.core.session.paths import folder_name, make_unique_folder

PHRASE = ("we should ship the release next week after the budget review and the "
          "marketing plan is agreed with the whole team")
WORDS = PHRASE.split(" ")


def build(root: Path, sessions: int, turns: int) -> None:
    start = datetime(2026, 1, 1, 9, 0).astimezone()
    for i in range(sessions):
        meta = SessionMeta(title=f"Meeting {i}", engine="embedded",
                           speech_model="whisper-tiny.en", llm_model="smollm2-135m",
                           prompt="Answer briefly.", started_at=start + timedelta(hours=i))
        meta = dataclasses.replace(meta, status=SessionStatus.COMPLETE, turn_count=turns,
                                   audio_duration_ms=turns * 5000)
        folder = make_unique_folder(root, folder_name(meta.started_at, meta.title))
        write_meta(folder, meta)
        lines, answers = [], []
        for t in range(turns):
            text = " ".join(WORDS[(t + k) % len(WORDS)] for k in range(15))
            words = tuple(WordRecord(w, t * 5000 + k * 300, t * 5000 + k * 300 + 250, 0.9)
                          for k, w in enumerate(text.split()))
            lines.append(encode_line(TurnRecord(t, text, words=words).to_dict()))
            answers.append(encode_line(AnswerRecord(t, "Answer briefly.", "smollm2-135m",
                                                    f"An answer about {text[:40]}").to_dict()))
        if i == sessions // 2:
            lines.append(encode_line(TurnRecord(turns, "the needle: zebra crossing").to_dict()))
        (folder / "transcript.jsonl").write_bytes(b"".join(lines))
        (folder / "llm.jsonl").write_bytes(b"".join(answers))


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sessions"
        root.mkdir()
        t = time.perf_counter()
        build(root, args.sessions, args.turns)
        print(f"built {args.sessions} sessions x {args.turns} turns "
              f"in {time.perf_counter() - t:.1f} s")
        store = SessionStore(root)

        def list_without_index():
            (root / INDEX_FILE).unlink(missing_ok=True)
            return store.list_sessions()

        ms, listed = timed(list_without_index, args.repeat)
        print(f"list_sessions, no index (reads every session.json): {ms:8.1f} ms "
              f"({len(listed)} sessions)")
        store.list_sessions()
        ms, listed = timed(store.list_sessions, args.repeat)
        print(f"list_sessions, with index:                          {ms:8.1f} ms")
        ms, saved = timed(lambda: store.load(listed[0].folder), args.repeat)
        print(f"load one session ({len(saved.turns)} turns):                    {ms:8.1f} ms")
        ms, hits = timed(lambda: store.search("zebra"), args.repeat)
        print(f"search, 1 hit:                                      {ms:8.1f} ms "
              f"({len(hits)} hit)")
        ms, hits = timed(lambda: store.search("budget review", limit=10**9), args.repeat)
        print(f"search, hits everywhere:                            {ms:8.1f} ms "
              f"({len(hits)} hits)")


if __name__ == "__main__":
    main()
