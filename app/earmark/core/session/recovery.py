"""Repair sessions left "recording" by a crash, kill -9 or power cut."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .errors import SessionError, StorageError
from .jsonl import read_jsonl, repair_tail
from .lock import is_locked
from .metafile import read_meta, remove_stale_temp_files, write_meta
from .paths import AUDIO_FILE, LLM_FILE, LOCK_FILE, SYSTEM_AUDIO_FILE, TRANSCRIPT_FILE
from .records import SessionMeta, SessionStatus, TurnRecord, latest_turns
from .wav_writer import HEADER_SIZE, bytes_to_ms, wav_header


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """One interrupted session. `error` is None when it was repaired, else why it was not."""

    folder: Path
    meta: SessionMeta
    dropped_audio_bytes: int = 0
    dropped_transcript_bytes: int = 0
    dropped_llm_bytes: int = 0
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def recovered(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class WavRepair:
    data_bytes: int
    dropped_bytes: int
    notes: tuple[str, ...]


def _find_data_chunk(head: bytes) -> tuple[int, int] | None:
    """(offset of the samples, block_align) of a RIFF/WAVE file, from its first bytes."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, block_align = 12, None
    while pos + 8 <= len(head):
        chunk_id, size = struct.unpack_from("<4sI", head, pos)
        if chunk_id == b"fmt " and pos + 8 + 14 <= len(head):
            block_align = struct.unpack_from("<H", head, pos + 8 + 12)[0]
        if chunk_id == b"data":
            return (pos + 8, block_align) if block_align else None
        pos += 8 + size + (size & 1)
    return None


def repair_wav(path: Path) -> WavRepair:
    """Make the header match the whole samples actually on disk; cut a half sample off."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return WavRepair(0, 0, (f"{AUDIO_FILE} is missing",))
    with open(path, "r+b") as f:
        found = _find_data_chunk(f.read(4096))
        notes: list[str] = []
        if found is None:
            # Our own header is always 44 bytes: rebuild it and keep every byte after it.
            data_offset, block_align = HEADER_SIZE, 2
            notes.append(f"{AUDIO_FILE} had a damaged header; it was rebuilt")
        else:
            data_offset, block_align = found
        data = max(0, size - data_offset)
        whole = data - data % block_align
        if found is None:
            f.seek(0)
            f.write(wav_header(whole))
        else:
            f.seek(4)
            f.write(struct.pack("<I", data_offset - 8 + whole))
            f.seek(data_offset - 4)
            f.write(struct.pack("<I", whole))
        if size > data_offset + whole:
            f.truncate(data_offset + whole)
        f.flush()
        os.fsync(f.fileno())
    return WavRepair(whole, max(0, size - data_offset - whole), tuple(notes))


def _last_write_time(folder: Path) -> datetime | None:
    times = []
    for name in (AUDIO_FILE, TRANSCRIPT_FILE, LLM_FILE):
        with contextlib.suppress(OSError):
            times.append((folder / name).stat().st_mtime)
    return datetime.fromtimestamp(max(times)).astimezone() if times else None


def _count_turns(folder: Path) -> int:
    turns = []
    for record in read_jsonl(folder / TRANSCRIPT_FILE).records:
        with contextlib.suppress(ValueError, TypeError):
            turns.append(TurnRecord.from_dict(record))
    return len(latest_turns(turns))


def recover_session(folder: Path) -> RecoveryReport | None:
    """Repair `folder` if it was left "recording" and nobody records into it now; None when
    there is nothing to do. Raises DamagedSessionError / StorageError."""
    meta = read_meta(folder)
    if meta.status is not SessionStatus.RECORDING or is_locked(folder):
        return None
    remove_stale_temp_files(folder)
    try:
        wav = repair_wav(folder / AUDIO_FILE)
        if (folder / SYSTEM_AUDIO_FILE).exists():  # a call's other stream
            repair_wav(folder / SYSTEM_AUDIO_FILE)
        dropped_transcript = repair_tail(folder / TRANSCRIPT_FILE)
        dropped_llm = repair_tail(folder / LLM_FILE)
    except StorageError:
        raise
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot repair", folder) from exc
    notes = list(wav.notes)
    if wav.dropped_bytes:
        notes.append(f"{wav.dropped_bytes} byte(s) of a cut-off sample were dropped from the audio")
    for name, dropped in ((TRANSCRIPT_FILE, dropped_transcript), (LLM_FILE, dropped_llm)):
        if dropped:
            notes.append(f"a cut-off last line ({dropped} bytes) was dropped from {name}")
    recovered = dataclasses.replace(
        meta, status=SessionStatus.RECOVERED,
        ended_at=meta.ended_at or _last_write_time(folder) or meta.started_at,
        audio_duration_ms=bytes_to_ms(wav.data_bytes), turn_count=_count_turns(folder))
    write_meta(folder, recovered)
    with contextlib.suppress(OSError):
        (folder / LOCK_FILE).unlink()
    return RecoveryReport(folder, recovered, wav.dropped_bytes, dropped_transcript, dropped_llm,
                          tuple(notes))


def recover_folders(folders: list[Path]) -> list[RecoveryReport]:
    """Try each folder; a failure becomes a report with `error` set instead of an exception."""
    reports = []
    for folder in folders:
        try:
            report = recover_session(folder)
        except SessionError as exc:
            try:
                meta = read_meta(folder)
            except SessionError:
                continue  # damaged beyond what recovery touches: the library marks it
            reports.append(RecoveryReport(folder, meta, error=str(exc)))
            continue
        if report is not None:
            reports.append(report)
    return reports
