"""`earmark transcribe` as a user runs it: a subprocess (`python -m earmark transcribe …`) on the
real embedded engine and real speech, with its settings, prompts, log and session library in a
tmp folder (XDG_* variables) and no keyring (keyring's null backend)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import jiwer
import pytest
from whisper_normalizer.english import EnglishTextNormalizer

from earmark.core.prompt_library import PromptLibrary
from earmark.core.session import SessionStatus, SessionStore, from_json
from earmark.headless import Progress
from earmark.transcribe import (
    EXIT_INCOMPLETE,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    cloud_key,
    find_prompt,
)
from tests.conftest import REPO, speech_file
from tests.support.qt_wait import wait_for

JFK = "misc/jfk.wav"
ARCTIC = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"
TWO_SPEAKERS = "multispeaker/ms01_2spk_alternating_ls-test-other.wav"
SRT_TIMING = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})$")
VTT_TIMING = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}$")
_normalise = EnglishTextNormalizer()


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(_normalise(reference), _normalise(hypothesis) or "-")


def reference(relative: str) -> str:
    return speech_file(relative).with_suffix(".txt").read_text().strip()


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "ASSEMBLYAI_API_KEY"}
    return {**env, "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", **extra}


def transcribe(home: Path, *args: str | Path, timeout: float = 300,
               **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m earmark transcribe ARGS` with its own home; waits for it to end."""
    return subprocess.run([sys.executable, "-m", "earmark", "transcribe", *map(str, args)],
                          env=cli_env(home, **env), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def text_of_json(path: Path) -> str:
    return " ".join(turn.text for turn in from_json(path.read_text()).turns)


TURN_LINE = {"txt": re.compile(r"^\[\d\d:\d\d:\d\d\] (.+)$"),
             "md": re.compile(r"^\*\*\[\d\d:\d\d:\d\d\]\*\* (.+)$")}


def spoken(fmt: str, path: Path) -> str:
    """The transcript's words in an export: the turn lines, the cues' text, the JSON turns."""
    if fmt == "json":
        return text_of_json(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if fmt in TURN_LINE:
        return " ".join(m.group(1) for line in lines if (m := TURN_LINE[fmt].match(line)))
    cue_text = [line for line in lines if line.strip() and line != "WEBVTT"
                and not line.isdigit() and "-->" not in line]
    return " ".join(cue_text)


def default_store(home: Path) -> SessionStore:
    return SessionStore(home / "data" / "Earmark" / "sessions")


# --- one file to every format ----------------------------------------------------------------


@pytest.fixture(scope="module")
def jfk_exports(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """jfk.wav transcribed to each format, one call each: (the run, the file written)."""
    runs = {}
    for fmt in ("txt", "md", "srt", "vtt", "json"):
        home = tmp_path_factory.mktemp(f"home-{fmt}")
        done = transcribe(home, speech_file(JFK), "--out", home / "out", "--format", fmt)
        runs[fmt] = (done, home / "out" / f"jfk.{fmt}")
    return runs


@pytest.mark.parametrize("fmt", ["txt", "md", "srt", "vtt", "json"])
def test_each_format_is_written_with_the_words_and_its_path_printed(jfk_exports, fmt):
    done, path = jfk_exports[fmt]
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.splitlines() == [str(path)]
    words = spoken(fmt, path)
    assert "fellow americans" in words.lower()
    assert wer(reference(JFK), words) < 0.15


def test_srt_has_numbered_cues_timed_within_the_audio(jfk_exports):
    _done, path = jfk_exports["srt"]
    blocks = path.read_text().strip().split("\n\n")
    assert len(blocks) >= 1
    previous_end = -1
    for number, block in enumerate(blocks, start=1):
        lines = block.splitlines()
        assert lines[0] == str(number)
        timing = SRT_TIMING.match(lines[1])
        assert timing, lines[1]
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, timing.groups())
        start = ((h1 * 60 + m1) * 60 + s1) * 1000 + ms1
        end = ((h2 * 60 + m2) * 60 + s2) * 1000 + ms2
        assert previous_end <= start < end <= 11_500
        assert lines[2].strip()
        previous_end = end


def test_vtt_starts_with_its_header_and_times_every_cue(jfk_exports):
    _done, path = jfk_exports["vtt"]
    lines = path.read_text().splitlines()
    assert lines[0] == "WEBVTT"
    assert sum(bool(VTT_TIMING.match(line)) for line in lines) >= 1


def test_json_has_turns_with_timed_words(jfk_exports):
    _done, path = jfk_exports["json"]
    document = json.loads(path.read_text())
    assert document["format"] == "earmark-session"
    turns = document["turns"]
    assert turns
    for turn in turns:
        assert turn["words"], turn
        assert _normalise(" ".join(w["text"] for w in turn["words"])) \
            == _normalise(turn["text"])
        for word in turn["words"]:
            assert 0 <= word["start_ms"] <= word["end_ms"] <= 11_500, word
    assert document["answers"] == []  # no --prompt: no per-turn LLM


def test_progress_goes_to_stderr_and_the_log_to_the_log_file(jfk_exports):
    done, _path = jfk_exports["txt"]
    assert "jfk.wav: 100% of 0:11" in done.stderr
    assert "all transcribed" in done.stderr
    assert " INFO " not in done.stderr
    home = _path.parents[1]
    log = (home / "state" / "Earmark" / "log" / "earmark.log").read_text()
    assert "transcribing" in log and "speech: ready" not in done.stderr


def test_the_session_is_in_the_default_library(jfk_exports):
    _done, path = jfk_exports["md"]
    sessions = default_store(path.parents[1]).list_sessions()
    assert [(s.title, s.status) for s in sessions] == [("jfk", SessionStatus.COMPLETE)]
    assert sessions[0].engine == "Embedded engine"


# --- batches ---------------------------------------------------------------------------------


def test_two_files_in_one_call_make_two_sessions_in_the_sessions_dir(tmp_path):
    library = tmp_path / "library"
    done = transcribe(tmp_path, speech_file(JFK), speech_file(ARCTIC), "--out",
                      tmp_path / "out", "--sessions-dir", library, "--format", "json")
    assert done.returncode == EXIT_OK, done.stderr
    outputs = [tmp_path / "out" / "jfk.json", tmp_path / "out" / f"{Path(ARCTIC).stem}.json"]
    assert done.stdout.splitlines() == [str(p) for p in outputs]
    assert wer(reference(ARCTIC), text_of_json(outputs[1])) < 0.2
    sessions = SessionStore(library).list_sessions()
    assert sorted(s.title for s in sessions) == sorted(["jfk", Path(ARCTIC).stem])
    assert all(s.status is SessionStatus.COMPLETE for s in sessions)
    assert not default_store(tmp_path).root.exists()


def test_a_missing_and_an_unreadable_file_are_reported_and_the_others_done(tmp_path):
    recording = tmp_path / "recordings" / "talk.wav"
    recording.parent.mkdir()
    recording.write_bytes(speech_file(JFK).read_bytes())
    broken = tmp_path / "recordings" / "broken.wav"
    broken.write_text("not audio at all\n")
    done = transcribe(tmp_path, tmp_path / "gone.wav", broken, recording)
    assert done.returncode == EXIT_USAGE, done.stderr  # a file that does not exist
    assert "gone.wav: no such file" in done.stderr
    assert "broken.wav is not an audio file Earmark can read" in done.stderr
    beside = recording.with_suffix(".txt")  # no --out: beside the recording
    assert done.stdout.splitlines() == [str(beside)]
    assert "ask what you can do for your country" in beside.read_text().lower()
    assert [s.title for s in default_store(tmp_path).list_sessions()] == ["talk"]


def test_an_unreadable_file_alone_exits_1(tmp_path):
    broken = tmp_path / "broken.flac"
    broken.write_bytes(b"\0" * 1000)
    done = transcribe(tmp_path, broken, "--out", tmp_path)
    assert done.returncode == EXIT_INCOMPLETE
    assert "broken.flac" in done.stderr and done.stdout == ""


def test_an_existing_transcript_is_left_alone_unless_overwrite(tmp_path):
    (tmp_path / "jfk.txt").write_text("my notes")
    done = transcribe(tmp_path, speech_file(JFK), "--out", tmp_path)
    assert done.returncode == EXIT_INCOMPLETE
    assert "exists; left alone (use --overwrite" in done.stderr
    assert (tmp_path / "jfk.txt").read_text() == "my notes"


# --- usage -----------------------------------------------------------------------------------


def test_the_cloud_without_a_key_says_where_to_put_one(tmp_path):
    done = transcribe(tmp_path, speech_file(JFK), "--engine", "cloud", "--out", tmp_path)
    assert done.returncode == EXIT_USAGE
    assert "no AssemblyAI API key: set ASSEMBLYAI_API_KEY" in done.stderr
    assert done.stdout == "" and not (tmp_path / "jfk.txt").exists()


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "docx"], "invalid choice: 'docx'"),
    (["--prompt", "no such prompt"], "there is no prompt 'no such prompt'; the prompts are: "
                                     "summary"),
    (["--llm", "smollm2-135m"], "--llm needs --prompt"),
    (["--prompt", "summary"], "--prompt needs an LLM to answer with: pass --llm MODEL"),
])
def test_usage_errors_exit_2(tmp_path, args, message):
    done = transcribe(tmp_path, speech_file(JFK), "--out", tmp_path, *args)
    assert done.returncode == EXIT_USAGE
    assert message in done.stderr


def test_help_says_where_transcripts_go_and_what_the_exit_status_means(tmp_path):
    done = transcribe(tmp_path, "--help")
    assert done.returncode == 0
    assert "beside the recording" in done.stdout and "ASSEMBLYAI_API_KEY" in done.stdout
    assert "exit status" in done.stdout


def test_a_prompt_answers_every_turn_with_the_embedded_llm(tmp_path):
    done = transcribe(tmp_path, speech_file(JFK), "--out", tmp_path, "--format", "json",
                      "--prompt", "Brief summary", "--llm", "smollm2-135m")
    assert done.returncode == EXIT_OK, done.stderr
    document = json.loads((tmp_path / "jfk.json").read_text())
    assert document["session"]["prompt"] == "Brief summary"
    assert document["answers"], "no per-turn answer"
    assert all(a["model"] for a in document["answers"])


def settings_file(home: Path, text: str) -> None:
    """The settings the window would have saved (QSettings' file on Linux)."""
    folder = home / "config" / "Earmark"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Earmark.conf").write_text(text)


def test_an_engine_that_cannot_start_fails_every_file_with_the_reason(tmp_path):
    settings_file(tmp_path, "[embedded]\nspeech_model=/nonexistent/model\n")
    done = transcribe(tmp_path, speech_file(JFK), speech_file(ARCTIC), "--out", tmp_path)
    assert done.returncode == EXIT_INCOMPLETE
    assert "The offline speech model could not load" in done.stderr
    assert f"{speech_file(ARCTIC)}: not transcribed." in done.stderr
    assert done.stdout == ""


@pytest.fixture
def local_cloud() -> Iterator[str]:
    """An engine that takes the key "test-key", standing in for AssemblyAI: its URL."""
    from earmark.engine.runner import EngineOptions, EngineRunner

    runner = EngineRunner(EngineOptions(port=0, token="test-key"))
    runner.start()
    assert runner.wait_listening(10), runner.start_error
    loaded = threading.Event()
    runner.add_ready_callback(lambda _error: loaded.set())
    assert loaded.wait(120)
    yield runner.ws_url
    runner.stop()


def test_the_cloud_takes_the_key_from_the_environment(tmp_path, local_cloud):
    settings_file(tmp_path, f"[cloud]\ncustom_url={local_cloud}\n")
    done = transcribe(tmp_path, speech_file(JFK), "--engine", "cloud", "--out", tmp_path,
                      "--format", "json", ASSEMBLYAI_API_KEY="test-key")
    assert done.returncode == EXIT_OK, done.stderr
    assert wer(reference(JFK), text_of_json(tmp_path / "jfk.json")) < 0.15
    [session] = default_store(tmp_path).list_sessions()
    assert session.engine == "AssemblyAI cloud"


def test_the_environment_key_wins_over_the_keyring(monkeypatch):
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", " from-env ")
    assert cloud_key(lambda: "from-keyring") == "from-env"
    monkeypatch.delenv("ASSEMBLYAI_API_KEY")
    assert cloud_key(lambda: "from-keyring") == "from-keyring"
    with pytest.raises(UsageError, match="no AssemblyAI API key"):
        cloud_key(lambda: None)


def test_a_prompt_is_found_by_id_or_name_in_any_case():
    library = PromptLibrary(REPO / "resources" / "prompts", user_dir=REPO / "no-such-folder")
    assert find_prompt(library, "action_items").id == "action_items"
    assert find_prompt(library, "brief SUMMARY").id == "summary"
    with pytest.raises(UsageError, match="the prompts are: summary"):
        find_prompt(library, "poetry")


# --- progress, in the process ----------------------------------------------------------------


class Collect:
    def __init__(self, tty: bool) -> None:
        self.text, self.tty = "", tty

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return self.tty


def test_progress_in_a_pipe_is_a_line_per_tenth_with_the_time_left():
    out = Collect(tty=False)
    progress = Progress(out)
    progress.begin("talk.wav")
    for ms in range(0, 60_001, 1000):
        progress.update(ms, 60_000)
    lines = out.text.splitlines()
    assert len(lines) == 11
    assert lines[0] == "talk.wav:   0% of 1:00, starting…"
    assert lines[-1] == "talk.wav: 100% of 1:00, finishing…"


def test_progress_on_a_terminal_rewrites_one_line():
    out = Collect(tty=True)
    progress = Progress(out)
    progress.begin("talk.wav")
    progress.update(0, 10_000)
    progress.update(10_000, 10_000)
    progress.say("done")
    assert out.text.count("\r") == 2 and out.text.endswith("\nearmark: done\n")


# --- accuracy under load ---------------------------------------------------------------------


def live_transcript(relative: str, tmp_path: Path) -> str:
    """The file through the window's parts at real-time pace (a REALTIME FileSource)."""
    from earmark.controllers.live_session import LiveSessionController, SessionConfig
    from earmark.core.protocol import StreamingParams
    from earmark.workers.engine_host import EngineHost, EngineState
    from earmark.workers.file_source import REALTIME, FileSource

    engine = EngineHost("whisper-tiny.en")
    engine.start()
    try:
        wait_for(lambda: engine.state == EngineState.READY, 120)
        store = SessionStore(tmp_path / "live", use_trash=False)
        controller = LiveSessionController(store)
        path = speech_file(relative)
        config = SessionConfig(engine.endpoint(), StreamingParams(
            sample_rate=16000, speech_model="whisper-tiny.en", format_turns=True),
            "Embedded engine", lambda: FileSource(path, speed=REALTIME), from_file=True)
        ended: list[str] = []
        controller.session_ended.connect(ended.append)
        controller.start_session(config)
        wait_for(lambda: bool(ended), 400)
        assert controller.complete, ended
        return " ".join(t.text for t in store.load(controller.saved_folder).turns)
    finally:
        engine.stop()


def cpu_hog(seconds: float) -> subprocess.Popen[bytes]:
    """One busy Python process that ends by itself after `seconds`."""
    code = f"import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end: pass"
    return subprocess.Popen([sys.executable, "-c", code])


@pytest.mark.slow
def test_a_batch_beside_a_cpu_hog_is_as_accurate_as_real_time_streaming(qapp, tmp_path):
    """3.2 minutes of two speakers: WER of `earmark transcribe` (as fast as the engine goes,
    with a busy process beside it) within 1.05x of the same file streamed at real time."""
    live = wer(reference(TWO_SPEAKERS), live_transcript(TWO_SPEAKERS, tmp_path))
    hog = cpu_hog(300)
    try:
        started = time.monotonic()
        done = transcribe(tmp_path, speech_file(TWO_SPEAKERS), "--out", tmp_path / "out",
                          "--format", "json")
        took = time.monotonic() - started
        assert hog.poll() is None, "the CPU hog ended before the transcription did"
    finally:
        hog.kill()
        hog.wait()
    assert done.returncode == EXIT_OK, done.stderr
    batch = wer(reference(TWO_SPEAKERS),
                text_of_json(tmp_path / "out" / f"{Path(TWO_SPEAKERS).stem}.json"))
    print(f"WER live {live:.3f}, earmark transcribe {batch:.3f} in {took:.0f} s")
    assert batch <= live * 1.05 + 1e-9, (live, batch)
