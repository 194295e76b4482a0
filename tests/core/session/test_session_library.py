"""The library: listing (1,000 sessions), the index cache, search, rename, delete."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import timedelta

import pytest

from earmark.core.session import (
    AnswerRecord,
    SessionBusyError,
    SessionNotFoundError,
    SessionStatus,
    SessionStore,
    fsio,
    metafile,
)
from earmark.core.session.jsonl import encode_line
from earmark.core.session.library import INDEX_FILE
from earmark.core.session.metafile import write_meta
from earmark.core.session.paths import folder_name, make_unique_folder
from tests.core.session.session_helpers import make_meta, make_turn


def write_session(root, index: int, turns: int = 2):
    """A finished session written straight to disk (much faster than recording one)."""
    base = make_meta(title=f"Meeting {index}")
    meta = dataclasses.replace(base, started_at=base.started_at + timedelta(minutes=index),
                               status=SessionStatus.COMPLETE, turn_count=turns,
                               audio_duration_ms=60_000 + index)
    folder = make_unique_folder(root, folder_name(meta.started_at, meta.title))
    write_meta(folder, meta)
    lines = [encode_line(make_turn(i, f"session {index} turn {i}").to_dict())
             for i in range(turns)]
    (folder / "transcript.jsonl").write_bytes(b"".join(lines))
    (folder / "llm.jsonl").write_bytes(b"")
    return folder


def test_a_thousand_sessions_are_listed_newest_first(store, monkeypatch):
    # Durability is tested elsewhere; without fsync the 1,000 folders are made in a moment.
    monkeypatch.setattr(fsio, "fsync", lambda fd: None)
    monkeypatch.setattr(metafile, "fsync_dir", lambda path: None)
    store.root.mkdir()
    for i in range(1000):
        write_session(store.root, i)
    start = time.perf_counter()
    first = store.list_sessions()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    second = store.list_sessions()
    warm = time.perf_counter() - start
    print(f"list_sessions of 1,000: {cold * 1000:.1f} ms without the index, "
          f"{warm * 1000:.1f} ms with it")  # informative only: see bench/library.py
    assert len(first) == 1000
    assert first == second
    assert [s.title for s in first[:2]] == ["Meeting 999", "Meeting 998"]
    assert all(s.status is SessionStatus.COMPLETE and s.turn_count == 2 for s in first)
    assert first[0].audio_duration_ms == 60_999
    assert first[0].engine == "embedded"
    assert (store.root / INDEX_FILE).exists()


def test_the_index_notices_changes_made_behind_its_back(store):
    store.root.mkdir()
    folders = [write_session(store.root, i) for i in range(3)]
    store.list_sessions()
    meta = json.loads((folders[0] / "session.json").read_text())
    meta["title"] = "Edited by another tool"
    (folders[0] / "session.json").write_text(json.dumps(meta))
    (folders[1] / "session.json").write_text("broken")
    titles = {s.folder.name: (s.title, s.status) for s in store.list_sessions()}
    assert titles[folders[0].name] == ("Edited by another tool", SessionStatus.COMPLETE)
    assert titles[folders[1].name][1] is SessionStatus.DAMAGED
    assert titles[folders[2].name] == ("Meeting 2", SessionStatus.COMPLETE)


def test_a_damaged_index_is_ignored(store):
    store.root.mkdir()
    write_session(store.root, 0)
    store.list_sessions()
    (store.root / INDEX_FILE).write_text('{"version": 1, "entries": {"x": 1}}')
    assert [s.title for s in store.list_sessions()] == ["Meeting 0"]
    index = json.loads((store.root / INDEX_FILE).read_text())
    stamp_entries = index["entries"]
    assert list(stamp_entries) == ["2026-11-24_1430-Meeting 0"]
    stamp_entries[next(iter(stamp_entries))]["summary"] = {"title": 3}
    (store.root / INDEX_FILE).write_text(json.dumps(index))
    assert [s.title for s in store.list_sessions()] == ["Meeting 0"]


def test_search_is_case_insensitive_across_transcripts_and_answers(store):
    recorder = store.create(make_meta(title="Budget"))
    recorder.add_turn(make_turn(0, "We should cut the MARKETING budget by ten percent."))
    recorder.add_turn(make_turn(1, "Nothing to see here."))
    recorder.add_answer(AnswerRecord(1, "p", "m", "Consider marketing channels first."))
    recorder.finish()
    other = store.create(make_meta(title="Other", minute=45))
    other.add_turn(make_turn(0, "Marketing again, in a later session."))
    other.finish()

    hits = store.search("marketing")
    assert [(h.session.title, h.turn_order, h.source) for h in hits] == [
        ("Other", 0, "transcript"), ("Budget", 0, "transcript"), ("Budget", 1, "answer")]
    budget_hit = hits[1]
    assert budget_hit.session.folder == recorder.folder
    assert budget_hit.snippet[budget_hit.match_start:budget_hit.match_end] == "MARKETING"
    assert store.search("MarKeTinG budget")[0].turn_order == 0
    assert store.search("not there at all") == []
    assert store.search("   ") == []


def test_search_finds_what_a_named_speaker_said(store):
    recorder = store.create(make_meta(title="Planning"))
    recorder.add_turn(dataclasses.replace(make_turn(0, "We ship on Friday."), speaker="A"))
    recorder.add_turn(dataclasses.replace(make_turn(1, "Fine by me."), speaker="B"))
    recorder.add_turn(dataclasses.replace(make_turn(2, "Dana will write the notes."),
                                          speaker="B"))
    recorder.set_speakers({"A": "Dana"})
    recorder.finish()
    hits = store.search("dana")
    assert [(h.turn_order, h.snippet) for h in hits] == [
        (0, "Dana: We ship on Friday."), (2, "Speaker B: Dana will write the notes.")]
    assert [h.turn_order for h in store.search("speaker b")] == [1, 2]
    recorder_folder = recorder.folder
    assert store.search("Friday")[0].session.folder == recorder_folder


def test_search_sees_only_the_latest_version_of_a_turn(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0, "draft wording"))
    recorder.add_turn(make_turn(0, "final wording"))
    recorder.finish()
    assert store.search("draft") == []
    assert len(store.search("final")) == 1


def test_search_handles_quotes_and_long_text(store):
    recorder = store.create(make_meta())
    long_text = " ".join(["filler"] * 100) + ' she said "ship it" then ' + " ".join(
        ["more"] * 100)
    recorder.add_turn(make_turn(0, long_text))
    recorder.finish()
    [hit] = store.search('"ship it"')
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert hit.snippet[hit.match_start:hit.match_end] == '"ship it"'
    assert len(hit.snippet) < 200


def test_search_skips_garbage_lines(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0, "alpha beta"))
    recorder.finish()
    with open(recorder.folder / "transcript.jsonl", "a") as f:
        f.write("alpha garbage\n")
    assert [h.turn_order for h in store.search("alpha")] == [0]


def test_rename_changes_title_and_folder(store):
    recorder = store.create(make_meta(title="Old name"))
    recorder.add_turn(make_turn(0))
    recorder.finish()
    new_folder = store.rename(recorder.folder, "New: name")
    assert new_folder.name == "2026-11-24_1430-New name"
    assert not recorder.folder.exists()
    saved = store.load(new_folder)
    assert saved.meta.title == "New: name" and len(saved.turns) == 1
    assert [s.title for s in store.list_sessions()] == ["New: name"]


def test_rename_without_moving_and_onto_a_taken_name(store):
    a = store.create(make_meta(title="A"))
    a.finish()
    b = store.create(make_meta(title="B"))
    b.finish()
    assert store.rename(a.folder, "Kept folder", rename_folder=False) == a.folder
    assert store.load(a.folder).meta.title == "Kept folder"
    moved = store.rename(b.folder, "A")
    assert moved.name == "2026-11-24_1430-A (2)"
    assert a.folder.exists()


def test_rename_and_delete_refuse_a_session_that_is_recording(store):
    recorder = store.create(make_meta())
    with pytest.raises(SessionBusyError, match="still recording"):
        store.rename(recorder.folder, "x")
    with pytest.raises(SessionBusyError):
        store.delete(recorder.folder)
    recorder.finish()
    store.delete(recorder.folder)
    assert not recorder.folder.exists()


def test_delete_uses_the_trash(tmp_path):
    trashed = []
    store = SessionStore(tmp_path / "sessions", trash=trashed.append)
    recorder = store.create(make_meta())
    recorder.finish()
    store.delete(recorder.folder)
    assert trashed == [recorder.folder]


def test_delete_falls_back_to_removing_when_there_is_no_trash(tmp_path):
    def no_trash(path):
        raise OSError("no trash can on this filesystem")

    store = SessionStore(tmp_path / "sessions", trash=no_trash)
    recorder = store.create(make_meta())
    recorder.finish()
    store.delete(recorder.folder)
    assert not recorder.folder.exists()
    assert store.list_sessions() == []


def test_rename_and_delete_only_touch_folders_inside_the_root(store, tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    store.create(make_meta()).finish()
    with pytest.raises(SessionNotFoundError):
        store.delete(outside)
    with pytest.raises(SessionNotFoundError):
        store.rename(outside, "x")
    with pytest.raises(SessionNotFoundError):
        store.delete(store.root)
    assert outside.exists()


def test_a_finished_session_gets_its_analysis(tmp_path):
    from earmark.core.session import Analysis, SessionBusyError, SessionMeta, SessionStore

    store = SessionStore(tmp_path, use_trash=False)
    recorder = store.create(SessionMeta(title="Sync"))
    with pytest.raises(SessionBusyError):
        store.set_analysis(recorder.folder, Analysis("too early", "m", "p"))
    recorder.finish()
    store.set_analysis(recorder.folder, Analysis("Ship on Friday.", "smollm2-135m", "Summary"))
    saved = store.load(recorder.folder)
    assert saved.analysis.text == "Ship on Friday." and saved.analysis.model == "smollm2-135m"
    assert saved.meta.title == "Sync"
