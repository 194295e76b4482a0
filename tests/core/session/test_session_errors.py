"""Bad disks and damaged folders: clear errors, nothing lost, nothing fatal."""

from __future__ import annotations

import errno
import json
import os
import wave

import pytest

from earmark.core.session import (
    AnswerRecord,
    DamagedSessionError,
    SessionNotFoundError,
    SessionStatus,
    SessionStore,
    StorageError,
    fsio,
)
from tests.core.session.session_helpers import (
    FRAME_SAMPLES,
    frame,
    make_meta,
    make_turn,
)


class FullDisk:
    """Monkeypatched fsio.write_all: while `full`, write half of the bytes, then ENOSPC."""

    def __init__(self) -> None:
        self.full = False
        self.real = fsio.write_all

    def __call__(self, fd, data, offset=None):
        if not self.full:
            return self.real(fd, data, offset)
        half = bytes(data)[: len(data) // 2]
        if half:
            self.real(fd, half, offset)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def full_disk(monkeypatch) -> FullDisk:
    disk = FullDisk()
    monkeypatch.setattr(fsio, "write_all", disk)
    return disk


def test_root_under_a_regular_file_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = SessionStore(blocker / "sessions")
    with pytest.raises(StorageError) as caught:
        store.create(make_meta())
    message = str(caught.value)
    assert str(blocker / "sessions") in message
    assert "a part of the path is a file, not a folder" in message
    assert caught.value.errno == errno.ENOTDIR
    with pytest.raises(StorageError, match="Cannot read the sessions folder"):
        store.list_sessions()


def test_a_missing_root_lists_nothing(tmp_path):
    assert SessionStore(tmp_path / "nowhere").list_sessions() == []


def test_full_disk_keeps_turns_in_memory_and_writes_them_later(store, full_disk):
    errors: list[str] = []
    resolved: list[bool] = []
    recorder = store.create(make_meta(), on_error=errors.append,
                            on_resolved=lambda: resolved.append(True))
    recorder.write_audio(frame(0))
    assert recorder.add_turn(make_turn(0))

    full_disk.full = True
    recorder.write_audio(frame(1))  # must not raise into the audio thread
    assert not recorder.add_turn(make_turn(1))
    recorder.write_audio(frame(2))
    assert not recorder.add_answer(AnswerRecord(1, "p", "m", "an answer"))
    assert not recorder.add_turn(make_turn(2))

    assert recorder.pending
    assert recorder.last_error is not None
    assert "the disk is full" in recorder.last_error
    assert "in memory" in recorder.last_error
    assert errors and all("the disk is full" in e for e in errors)
    assert len(errors) == len(set(errors)) <= 3  # once per file, not once per frame
    on_disk = (recorder.folder / "transcript.jsonl").read_text().splitlines()
    assert [json.loads(line)["turn_order"] for line in on_disk] == [0]  # no half line left
    assert [t.turn_order for t in recorder.snapshot().turns] == [0, 1, 2]

    full_disk.full = False
    assert recorder.add_turn(make_turn(3))
    assert recorder.last_error is None and not recorder.pending and resolved
    meta = recorder.finish()
    saved = store.load(recorder.folder)
    assert [t.turn_order for t in saved.turns] == [0, 1, 2, 3]
    assert [a.answer for a in saved.answers] == ["an answer"]
    assert saved.problems == ()
    assert meta.audio_duration_ms == 150
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.readframes(10_000) == frame(0) + frame(1) + frame(2)


def test_finish_on_a_full_disk_raises_and_can_be_retried(store, full_disk):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0))
    full_disk.full = True
    recorder.write_audio(frame(0))
    recorder.add_turn(make_turn(1))
    with pytest.raises(StorageError, match=r"disk is full.*not fully saved"):
        recorder.finish()
    assert json.loads((recorder.folder / "session.json").read_text())["status"] == "recording"
    assert not recorder.finished

    full_disk.full = False
    meta = recorder.finish()
    assert meta.status is SessionStatus.COMPLETE and meta.turn_count == 2
    saved = store.load(recorder.folder)
    assert [t.turn_order for t in saved.turns] == [0, 1]
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.getnframes() == FRAME_SAMPLES


def test_background_retry_writes_audio_without_new_turns(store, full_disk):
    recorder = store.create(make_meta())
    full_disk.full = True
    for i in range(5):
        recorder.write_audio(frame(i))
    assert recorder.pending
    full_disk.full = False
    recorder._maintain()  # what the sync thread does every half second
    assert not recorder.pending and recorder.last_error is None
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.readframes(10_000) == b"".join(frame(i) for i in range(5))
    recorder.finish()


def test_session_json_write_failure_is_a_storage_error(tmp_path, full_disk):
    from earmark.core.session.metafile import atomic_write_json

    full_disk.full = True
    with pytest.raises(StorageError, match="disk is full"):
        atomic_write_json(tmp_path / "session.json", {"a": 1})
    assert list(tmp_path.iterdir()) == []  # no temp file left behind


def test_garbage_session_json_is_marked_damaged(store):
    recorder = store.create(make_meta())
    recorder.finish()
    (recorder.folder / "session.json").write_text("{ this is not json")
    [summary] = store.list_sessions()
    assert summary.status is SessionStatus.DAMAGED
    assert summary.folder == recorder.folder
    assert "not valid JSON" in (summary.problem or "")
    with pytest.raises(DamagedSessionError, match=r"is damaged: session\.json is not valid JSON"):
        store.load(recorder.folder)


@pytest.mark.parametrize(("content", "reason"), [
    (None, "session.json is missing"),
    ("[1, 2]", "must be a JSON object"),
    ('{"schema_version": 1, "status": "complete", "started_at": "2026-01-01T10:00"}',
     "'id' is missing"),
    ('{"schema_version": 1, "id": "x", "status": "weird", "started_at": "2026-01-01"}',
     "unknown status"),
    ('{"schema_version": 1, "id": "x", "status": "complete", "started_at": "yesterday"}',
     "not an ISO 8601 time"),
])
def test_invalid_session_json_says_why(store, content, reason):
    recorder = store.create(make_meta())
    recorder.finish()
    meta_file = recorder.folder / "session.json"
    if content is None:
        meta_file.unlink()
    else:
        meta_file.write_text(content)
    [summary] = store.list_sessions()
    assert summary.status is SessionStatus.DAMAGED and reason in (summary.problem or "")
    with pytest.raises(DamagedSessionError, match=reason):
        store.load(recorder.folder)


def test_unrelated_folders_and_files_are_ignored(store):
    store.create(make_meta()).finish()
    (store.root / "holiday photos").mkdir()
    (store.root / "notes.txt").write_text("x")
    (store.root / ".hidden").mkdir()
    assert len(store.list_sessions()) == 1


def test_garbage_lines_are_skipped_and_reported(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0))
    recorder.finish()
    transcript = recorder.folder / "transcript.jsonl"
    good = transcript.read_text()
    transcript.write_text(good + "garbage line\n" + '{"turn_order": "x"}\n' + "[1]\n"
                          + good.replace('"turn_order":0', '"turn_order":1')
                          + '{"turn_order": 2, "te')
    saved = store.load(recorder.folder)
    assert [t.turn_order for t in saved.turns] == [0, 1]
    assert len(saved.problems) == 4
    assert any("line 2 is not valid JSON" in p for p in saved.problems)
    assert any("line 6 is cut off" in p for p in saved.problems)


def test_loading_a_missing_folder(store, tmp_path):
    with pytest.raises(SessionNotFoundError):
        store.load(tmp_path / "nope")


def test_a_file_replaced_by_a_folder_mid_recording(store):
    # Fails even for root: nothing can open a folder as a file.
    recorder = store.create(make_meta())
    assert recorder.add_turn(make_turn(0))
    transcript = recorder.folder / "transcript.jsonl"
    transcript.unlink()
    transcript.mkdir()
    assert not recorder.add_turn(make_turn(1))
    assert recorder.last_error is not None and "it is a folder, not a file" in recorder.last_error
    assert str(transcript) in recorder.last_error
    transcript.rmdir()
    assert recorder.add_turn(make_turn(2))
    recorder.finish()
    saved = store.load(recorder.folder)
    assert [t.turn_order for t in saved.turns] == [1, 2]  # turn 0 went with the old file
    assert saved.problems == ()
