"""Settings → Models without widgets: rows built from a catalogue made here and an installed
index in tmp_path (EARMARK_MODELS_DIR), the recommended marks, which actions each state offers,
and a download driven end to end against a local HTTP server (with Range support) through the
"Download source" setting: progress, cancel, resume, installed and usable; a wrong file and a
full disk say why. The real catalogue is never changed."""

from __future__ import annotations

import hashlib
import random
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from earmark.controllers.models import (
    KEY_ROLE,
    ModelsController,
    RowState,
    cells,
    machine_line,
    recommended_ids,
    speech_model_choices,
    time_left,
)
from earmark.core.models import (
    ENTRIES,
    CatalogEntry,
    InstalledModel,
    Kind,
    RemoteFile,
    add_local_gguf,
    add_local_whisper,
    read_index,
    recommended,
    register,
)
from earmark.settings import Key
from tests.support.file_server import FileServer, file_server

SIZE = 1_000_000
GB = 1_000_000_000
FAST = {"chunk_bytes": 16_384, "progress_interval_s": 0.0, "retry_waits_s": (),
        "reserve_bytes": 0}
HF = "https://huggingface.co"


@pytest.fixture
def server() -> Iterator[FileServer]:
    with file_server() as files:
        yield files


# --- catalogue entries, an engine and a models folder made for the tests ----------------------


def payload(size: int = SIZE, seed: int = 7) -> bytes:
    return b"GGUF" + random.Random(seed).randbytes(size - 4)


def remote(repo: str, name: str, content: bytes) -> RemoteFile:
    """A file "on Hugging Face": the tests serve it through the download source setting."""
    return RemoteFile(name, f"{HF}/{repo}/resolve/main/{name}", len(content),
                      hashlib.sha256(content).hexdigest())


def answer_entry(model_id: str, content: bytes, *, memory: int = GB, speed: str = "fast",
                 low: bool = False) -> CatalogEntry:
    return CatalogEntry(
        id=model_id, label=f"Test {model_id}", kind=Kind.ANSWER, format="gguf",
        files=(remote(f"test/{model_id}", f"{model_id}.gguf", content),),
        licence="Apache-2.0", licence_url="https://www.apache.org/licenses/LICENSE-2.0",
        source_page=f"{HF}/test/{model_id}", revision="main", memory_bytes=memory, speed=speed,
        recommended={"low": low, "mid": False, "high": False}, languages=("en",),
        verified=True, evidence="made by the test")


WHISPER_FILES = {"config.json": b"{}", "model.bin": b"\x01" * 1000, "tokenizer.json": b"{}",
                 "vocabulary.txt": b"a\nb\n"}


def speech_entry(model_id: str, *, low: bool = False) -> CatalogEntry:
    files = tuple(remote(f"test/{model_id}", name, data) for name, data in WHISPER_FILES.items())
    return replace(answer_entry(model_id, b"GGUF", low=low), kind=Kind.SPEECH,
                   format="ctranslate2-whisper", files=files, licence="MIT",
                   licence_url="https://github.com/openai/whisper/blob/main/LICENSE",
                   memory_bytes=500_000_000)


def serve(server: FileServer, entry: CatalogEntry, content: bytes) -> None:
    server.files[urlsplit(entry.files[0].url).path] = content


def whisper_folder(where: Path) -> Path:
    where.mkdir(parents=True)
    for name, data in WHISPER_FILES.items():
        (where / name).write_bytes(data)
    return where


class FakeEngine:
    def __init__(self, speech_model: str = "whisper-tiny.en") -> None:
        self.speech_model = speech_model
        self.reloads = 0

    def set_speech_model(self, speech_model: str) -> None:
        self.speech_model = speech_model

    def reload(self) -> None:
        self.reloads += 1


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("EARMARK_MODELS_DIR", str(folder))
    monkeypatch.delenv("EARMARK_MODEL_MIRROR", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    return folder


@pytest.fixture
def make(settings, root, qtbot):
    """A controller on a 4 GB, 2-core machine (the "low" class), no built-in models."""
    made: list[ModelsController] = []

    def build(catalog: list[CatalogEntry], engine: FakeEngine | None = None,
              **options) -> ModelsController:
        options = {"memory_bytes": 4 * GB, "cores": 2, "builtins": (),
                   "download_options": FAST, **options}
        controller = ModelsController(settings, engine or FakeEngine(), catalog=catalog,
                                      **options)
        made.append(controller)
        return controller

    yield build
    for controller in made:
        controller.shutdown()


def state(c: ModelsController, key: str) -> RowState:
    row = c.row(key)
    assert row is not None, key
    return row.state


def wait_done(qtbot, c: ModelsController) -> None:
    qtbot.waitUntil(lambda: not c.downloading, timeout=20_000)


# --- rows --------------------------------------------------------------------------------------


def test_rows_come_from_the_catalogue_and_the_installed_index(make, root, settings, tmp_path):
    small, big = answer_entry("small", payload()), answer_entry("big", payload(), memory=8 * GB)
    fast = answer_entry("fast", payload(), low=True)
    hearing = speech_entry("hearing", low=True)
    installed_file = root / "gguf" / "small.gguf"
    installed_file.parent.mkdir(parents=True)
    installed_file.write_bytes(payload())
    register(root, InstalledModel("small", Kind.ANSWER, str(installed_file), "Test small",
                                  "catalog", SIZE))
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF" + b"\0" * 100)
    add_local_gguf(root, mine)
    gone = tmp_path / "gone.gguf"
    gone.write_bytes(b"GGUF")
    add_local_gguf(root, gone)
    gone.unlink()
    settings.set(Key.EMBEDDED_LLM, "gguf:small")

    c = make([small, big, fast, hearing])
    assert [(r.key, r.state) for r in c.rows] == [
        ("hearing", RowState.AVAILABLE),  # speech first
        ("small", RowState.IN_USE), ("big", RowState.AVAILABLE), ("fast", RowState.AVAILABLE),
        ("local-mine", RowState.INSTALLED), ("local-gone", RowState.MISSING)]
    assert cells(c.row("small")) == ("Test small", "Answers", "In use", "1.0 MB", "1.0 GB",
                                     "Fast", "Apache-2.0", "Hugging Face (test)")
    assert cells(c.row("local-mine")) == ("mine", "Answers", "Installed", "104 bytes", "—", "—",
                                          "—", "Added from this computer")
    assert cells(c.row("hearing"))[:6] == ("★ Test hearing", "Speech", "Available", "1.0 kB",
                                           "500 MB", "Fast")
    assert c.table.rowCount() == 6 and c.table.columnCount() == 8
    assert c.table.index(1, 0).data(KEY_ROLE) == "small"
    details = c.details("big")
    assert 'href="https://www.apache.org/licenses/LICENSE-2.0"' in details
    assert 'href="https://huggingface.co/test/big"' in details
    assert str(root / "gguf" / "big.gguf") in details
    assert "Recommended for this computer" in c.details("fast")


def test_models_recommended_for_this_computer_are_marked(make):
    fast = answer_entry("fast", payload(), low=True)
    greedy = answer_entry("greedy", payload(), memory=6 * GB, low=True)  # more than 4 GB
    hearing = speech_entry("hearing", low=True)
    c = make([fast, greedy, hearing, answer_entry("other", payload())])
    assert c.recommended_keys() == ["hearing", "fast"]
    assert [r.key for r in c.rows if cells(r)[0].startswith("★ ")] == ["hearing", "fast"]
    assert c.machine_line() == machine_line(4 * GB, 2) == (
        "This computer: 4.0 GB of memory, 2 cores. ★ marks the models recommended for it.")
    assert "Test fast for answers" in c.first_run_line()
    assert "Test hearing for speech" in c.first_run_line()
    for memory, cores in ((4 * GB, 2), (8 * GB, 4), (16 * GB, 8), (32 * GB, 16)):
        assert recommended_ids(ENTRIES, memory, cores) == {e.id for e in recommended(memory,
                                                                                     cores)}


def test_the_first_run_line_goes_once_a_model_is_installed(make, root, tmp_path):
    c = make([answer_entry("fast", payload(), low=True), speech_entry("hearing", low=True)])
    assert c.first_run_line().startswith("To start, Earmark recommends")
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF")
    assert c.add_file(mine) == "local-mine"
    assert c.first_run_line() == ""


# --- actions per state ---------------------------------------------------------------------------


def test_actions_follow_each_state(make, root, settings, tmp_path):
    entries = [answer_entry(name, payload()) for name in ("free", "part", "have", "used")]
    unverified = replace(answer_entry("unknown", payload()), verified=False,
                         evidence="no hash was published")
    (root / "gguf").mkdir(parents=True)
    (root / "gguf" / "part.gguf.part").write_bytes(payload()[:SIZE // 4])
    for name in ("have", "used"):
        path = root / "gguf" / f"{name}.gguf"
        path.write_bytes(payload())
        register(root, InstalledModel(name, Kind.ANSWER, str(path), name, "catalog", SIZE))
    settings.set(Key.EMBEDDED_LLM, "gguf:used")
    c = make([*entries, unverified])

    free = c.actions("free")
    assert (free.download, free.download_text, free.use, free.remove) == (True, "Download",
                                                                          False, False)
    part = c.actions("part")
    assert c.row("part").status == "25 % downloaded"
    assert (part.download, part.download_text, part.use, part.remove) == (
        True, "Resume download", False, True)
    have = c.actions("have")
    assert (have.download, have.use, have.remove) == (False, True, True)
    used = c.actions("used")
    assert (used.download, used.use, used.remove) == (False, False, False)
    assert "choose another model first" in used.remove_why
    unknown = c.actions("unknown")
    assert not unknown.download and "no hash was published" in unknown.download_why
    assert not any(c.actions(key).cancel for key in ("free", "part", "have"))


def test_built_in_models_can_be_used_but_not_removed(make, settings):
    c = make([], builtins=None)  # what this installation has
    tiny = c.row("builtin:whisper-tiny.en")
    assert tiny is not None and tiny.state is RowState.IN_USE and tiny.size > 0
    demo = c.row("builtin:smollm2-135m")
    assert demo is not None and demo.state is RowState.INSTALLED
    actions = c.actions(demo.key)
    assert actions.use and not actions.remove and not actions.download
    engine = FakeEngine()
    c = make([], engine, builtins=None)
    assert c.use("builtin:smollm2-135m")
    assert settings.get(Key.EMBEDDED_LLM) == "smollm2-135m" and engine.reloads == 0


# --- a download, end to end ----------------------------------------------------------------------


def test_download_progress_cancel_resume_install_and_use(make, server, settings, root, qtbot):
    content = payload()
    e = answer_entry("tiny-answers", content)
    serve(server, e, content)
    server.delay_s = 0.02  # 61 pieces: about 1.2 s, time to cancel
    engine = FakeEngine()
    c = make([e, answer_entry("other", payload())], engine)
    assert c.set_mirror(server.url + "/")  # the "Download source"
    assert settings.get(Key.MODEL_MIRROR) == server.url

    assert c.download("tiny-answers")
    assert state(c, "tiny-answers") is RowState.DOWNLOADING
    assert c.actions("tiny-answers").cancel and not c.actions("tiny-answers").download
    other = c.actions("other")  # one download at a time
    assert not other.download and "One download at a time" in other.download_why
    assert not c.download("other")
    qtbot.waitUntil(lambda: c.progress_fraction() > 0.2, timeout=20_000)
    assert c.row("tiny-answers").status.startswith("Downloading ")
    text = c.progress_text()
    assert text.startswith("Test tiny-answers: ") and " of 1.0 MB" in text and " left" in text
    c.cancel_download()
    wait_done(qtbot, c)
    assert state(c, "tiny-answers") is RowState.PARTIAL
    assert "cancelled" in c.message and "kept" in c.message and not c.message_is_error
    part = root / "gguf" / "tiny-answers.gguf.part"
    kept = part.stat().st_size
    assert 0 < kept < SIZE
    assert c.actions("tiny-answers").download_text == "Resume download"
    assert server.requests == [("/test/tiny-answers/resolve/main/tiny-answers.gguf", None)]

    server.delay_s = 0.0
    installed_changes: list[bool] = []
    c.installed_changed.connect(lambda: installed_changes.append(True))
    assert c.download("tiny-answers")
    wait_done(qtbot, c)
    assert server.requests[-1][1] == f"bytes={kept}-"  # resumed, not started over
    target = root / "gguf" / "tiny-answers.gguf"
    assert target.read_bytes() == content and not part.exists()
    assert [m.id for m in read_index(root)] == ["tiny-answers"]
    assert state(c, "tiny-answers") is RowState.INSTALLED and installed_changes
    assert "is downloaded" in c.message
    assert c.actions("tiny-answers").use

    chosen: list[str] = []
    c.answer_model_chosen.connect(chosen.append)
    assert c.use("tiny-answers")
    assert settings.get(Key.EMBEDDED_LLM) == "gguf:tiny-answers" == chosen[0]
    assert engine.reloads == 1  # the engine serves models it finds at start
    assert state(c, "tiny-answers") is RowState.IN_USE


def test_a_speech_model_downloads_and_is_used_by_the_engine(make, server, settings, root,
                                                            qtbot):
    e = speech_entry("hearing")
    for f in e.files:
        server.files[urlsplit(f.url).path] = WHISPER_FILES[f.name]
    engine = FakeEngine()
    c = make([e], engine)
    c.set_mirror(server.url)
    assert c.download("hearing")
    wait_done(qtbot, c)
    folder = root / "whisper" / "hearing"
    assert state(c, "hearing") is RowState.INSTALLED
    assert c.use("hearing")
    assert engine.speech_model == str(folder) == settings.get(Key.EMBEDDED_SPEECH_MODEL)
    assert state(c, "hearing") is RowState.IN_USE and engine.reloads == 0
    assert speech_model_choices() == [("Test hearing", str(folder))]


def test_a_wrong_file_is_refused_with_the_workers_message(make, server, root, qtbot):
    content = payload()
    e = answer_entry("tiny-answers", content)
    serve(server, e, content)
    server.wrong.add(urlsplit(e.files[0].url).path)
    c = make([e])
    c.set_mirror(server.url)
    c.download("tiny-answers")
    wait_done(qtbot, c)
    assert c.message_is_error and "not the file the catalogue vouches for" in c.message
    row = c.row("tiny-answers")
    assert row.state is RowState.AVAILABLE and row.status == "Download failed"
    assert row.failure == c.message
    assert c.actions("tiny-answers").download  # try again (or another source)
    assert read_index(root) == []


def test_not_enough_disk_space_is_said_before_anything_is_fetched(make, server, qtbot,
                                                                  monkeypatch):
    content = payload()
    e = answer_entry("tiny-answers", content)
    serve(server, e, content)
    monkeypatch.setattr(shutil, "disk_usage",
                        lambda path: SimpleNamespace(total=10**9, used=10**9 - 1000, free=1000))
    c = make([e])
    c.set_mirror(server.url)
    c.download("tiny-answers")
    wait_done(qtbot, c)
    assert c.message_is_error and c.message.startswith("Not enough disk space for Test")
    assert server.requests == []


def test_a_served_answer_model_is_used_without_restarting_the_engine(make, root, settings,
                                                                     tmp_path):
    mine = tmp_path / "mine.gguf"
    mine.write_bytes(b"GGUF")
    engine = FakeEngine()
    c = make([], engine, served_answer_models=lambda: ["gguf:mine", "smollm2-135m"])
    key = c.add_file(mine)
    assert c.use(key) and engine.reloads == 0
    assert settings.get(Key.EMBEDDED_LLM) == "gguf:mine"


# --- add, remove, download source ----------------------------------------------------------------


def test_adding_a_file_or_folder_says_why_it_is_refused(make, root, tmp_path):
    c = make([])
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    assert c.add_file(text) is None
    assert c.message_is_error and "is not a GGUF model" in c.message
    assert c.add_folder(tmp_path) is None
    assert c.message_is_error and "no model.bin" in c.message
    key = c.add_folder(whisper_folder(tmp_path / "my-whisper"))
    assert key == "local-my-whisper" and not c.message_is_error
    assert state(c, key) is RowState.INSTALLED and c.actions(key).use


def test_remove_deletes_files_only_inside_the_models_folder(make, root, tmp_path):
    outside = whisper_folder(tmp_path / "elsewhere")
    add_local_whisper(root, outside)
    inside_file = root / "gguf" / "mine.gguf"
    inside_file.parent.mkdir(parents=True)
    inside_file.write_bytes(b"GGUF")
    add_local_gguf(root, inside_file)
    e = answer_entry("part", payload())
    (root / "gguf" / "part.gguf.part").write_bytes(b"GGUF" * 10)
    c = make([e])

    plan = c.removal_plan("local-elsewhere")
    assert plan.deletes == () and "stay in" in plan.question
    assert c.remove("local-elsewhere")
    assert outside.is_dir() and c.row("local-elsewhere") is None

    plan = c.removal_plan("local-mine")
    assert plan.deletes == (inside_file,) and plan.question.startswith("Delete mine?")
    assert c.remove("local-mine")
    assert not inside_file.exists() and [m.id for m in read_index(root)] == []

    plan = c.removal_plan("part")
    assert "partly downloaded" in plan.question
    assert c.remove("part")
    assert not (root / "gguf" / "part.gguf.part").exists()
    assert state(c, "part") is RowState.AVAILABLE


def test_the_download_source_is_checked_and_saved(make, settings, monkeypatch):
    c = make([])
    assert c.mirror_hint() == "Empty: https://huggingface.co"
    assert not c.set_mirror("ftp://mirror.example")
    assert c.message_is_error and "not a download source" in c.message
    assert settings.get(Key.MODEL_MIRROR) == ""
    assert c.set_mirror(" https://hf-mirror.com/ ")
    assert settings.get(Key.MODEL_MIRROR) == "https://hf-mirror.com"
    assert c.set_mirror("") and settings.get(Key.MODEL_MIRROR) == ""
    monkeypatch.setenv("HF_ENDPOINT", "https://mirror.example")
    assert c.mirror_hint() == "Empty: https://mirror.example (from HF_ENDPOINT)"


def test_time_left_reads_naturally():
    assert time_left(-1) == "working out the time left"
    assert time_left(0.2) == "about 1 s left"
    assert time_left(95) == "about 2 min left"
    assert time_left(3 * 3600 + 600) == "about 3 h 10 min left"
