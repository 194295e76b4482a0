"""`earmark transcribe FILE…`: recordings transcribed without the window, for batches and
scripts. The same engine host, session controller, session library and exporters as the window
(`headless.py` runs them on a QCoreApplication); this module reads the command line, checks it
and the files, and says what the exit status means."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from . import APP_NAME, ORG_NAME, __version__
from .core.catalog import CLOUD_ENGINE, EMBEDDED_ENGINE
from .core.prompt_library import PromptLibrary
from .core.prompts import Prompt
from .core.session import ExportFormat
from .core.session.paths import default_sessions_root
from .logging_setup import log_dir, setup_logging
from .resources import resource
from .settings import Key, Settings

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_INCOMPLETE = 1  # a file could not be transcribed (completely)
EXIT_USAGE = 2  # bad options, a file that does not exist, no API key
EXIT_INTERRUPTED = 130
API_KEY_ENV = "ASSEMBLYAI_API_KEY"  # the AssemblyAI SDK's variable
PROG = "earmark transcribe"

DESCRIPTION = ("Transcribe recordings (WAV, FLAC, MP3, M4A, OGG, anything FFmpeg reads) without "
               "the window. Each file becomes a session in the library, as if opened in the "
               "window, and its transcript is written as a file.")

EPILOG = f"""\
where the transcript goes:
  DIR/STEM.FORMAT with --out DIR, else beside the recording: talk.m4a -> talk.txt (or
  talk.srt, ...). An existing file is left alone (that recording is skipped, exit status 1)
  unless --overwrite is given. The path of every transcript written is printed on standard
  output, one a line; progress (file, percent, time left) and problems go to standard error,
  everything else to the log ({log_dir() / "earmark.log"}).

engines:
  embedded  offline, the speech model chosen in Settings, as fast as the engine keeps up
  cloud     AssemblyAI, at real-time pace (the service's rule), the speech model chosen in
            Settings; the API key from ${API_KEY_ENV} when it is set (it wins), else the
            key stored in Settings (the OS keyring)

per-turn answers:
  --prompt NAME (a prompt's name or id, built-in or your own) has an LLM answer every turn:
  --llm MODEL, else the model last chosen in the window for that engine (offline there is
  none until you choose one). The answers are saved with the session and included in txt,
  md and json. Without --prompt: the transcript only. Speaker labels and the vocabulary
  come from Settings, as in the window.

exit status:
  0    every file was transcribed completely
  1    a file could not be transcribed completely (unreadable, engine or connection
       failure): no transcript file is written for it (so a file written is a whole one),
       and the part transcribed is in the library (its folder is printed)
  2    usage: a bad option or format, a file that does not exist, no API key, an unknown
       prompt (a missing file does not stop the others)
  130  interrupted (Ctrl+C): what was transcribed so far is kept in the library
"""


class UsageError(Exception):
    """A problem with the command line: nothing is transcribed."""


@dataclass(frozen=True, slots=True)
class Job:
    source: Path
    output: Path


@dataclass(slots=True)
class Plan:
    """What to do, checked: the files to transcribe and how."""

    jobs: list[Job]
    fmt: ExportFormat
    engine: str
    prompt: Prompt | None
    llm: str | None  # the model that answers every turn (with a prompt)
    api_key: str | None
    sessions_dir: Path | None  # None: the folder chosen in Settings, else the default
    exit_status: int = EXIT_OK  # from files left out before starting
    problems: list[str] = field(default_factory=list)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+", metavar="FILE", type=Path, help="recordings")
    p.add_argument("--out", metavar="DIR", type=Path,
                   help="folder for the transcripts (made if missing; default: beside each "
                        "recording)")
    p.add_argument("--format", default="txt", choices=[f.value for f in ExportFormat],
                   help="txt (default), md, srt, vtt or json (turns with their words)")
    p.add_argument("--engine", default=EMBEDDED_ENGINE, choices=[EMBEDDED_ENGINE, CLOUD_ENGINE],
                   help="embedded (default, offline) or cloud (AssemblyAI)")
    p.add_argument("--prompt", metavar="NAME", help="answer every turn with this prompt")
    p.add_argument("--llm", metavar="MODEL",
                   help="the LLM for --prompt (default: the one chosen in the window)")
    p.add_argument("--sessions-dir", metavar="DIR", type=Path,
                   help="the session library to save into (default: the folder chosen in "
                        f"Settings, else {default_sessions_root()})")
    p.add_argument("--overwrite", action="store_true", help="replace existing transcripts")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress, problems only")
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return p


def say(text: str) -> None:
    """A problem or a result, for the person at the terminal."""
    print(f"earmark: {text}", file=sys.stderr, flush=True)


# --- checking what was asked ---------------------------------------------------------------


def find_prompt(library: PromptLibrary, name: str) -> Prompt:
    """The prompt whose id or name is `name` (case does not matter); UsageError otherwise."""
    wanted = name.strip().casefold()
    for prompt in library.all():
        if wanted in (prompt.id.casefold(), prompt.name.casefold()):
            return prompt
    known = ", ".join(f"{p.id} ({p.name})" for p in library.all())
    raise UsageError(f"there is no prompt {name!r}; the prompts are: {known}.")


def cloud_key(read_keyring: Callable[[], str | None]) -> str:
    """${API_KEY_ENV} when set, else the key in the keyring; UsageError when there is none."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key:
        return key
    from .credentials import CredentialsUnavailable

    try:
        key = (read_keyring() or "").strip()
    except CredentialsUnavailable as exc:
        raise UsageError(f"no AssemblyAI API key: set {API_KEY_ENV} ({exc})") from None
    if not key:
        raise UsageError(f"no AssemblyAI API key: set {API_KEY_ENV}, or enter the key in "
                         "Earmark's File → Settings (it is kept in the OS keyring).")
    return key


def output_folder(out: Path | None) -> Path | None:
    """--out, made if missing; UsageError when it cannot be."""
    if out is None:
        return None
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot use {out} for the transcripts: {exc.strerror or exc}.") \
            from None
    return out


def plan_jobs(files: Sequence[Path], out: Path | None, fmt: ExportFormat,
              overwrite: bool) -> tuple[list[Job], int, list[str]]:
    """The files that can be transcribed, the exit status earned by the others, and why each
    was left out."""
    jobs: list[Job] = []
    status, problems = EXIT_OK, []
    for source in files:
        job = Job(source, (out or source.parent) / f"{source.stem}{fmt.suffix}")
        refusal = refuse(job, {j.output.resolve() for j in jobs}, overwrite)
        if refusal is None:
            jobs.append(job)
        else:
            status = max(status, refusal[0])
            problems.append(f"{source}: {refusal[1]}")
    return jobs, status, problems


def refuse(job: Job, taken: set[Path], overwrite: bool) -> tuple[int, str] | None:
    """Why `job` cannot be done (its exit status and a sentence), or None when it can."""
    from .workers.audio_sources import AudioSourceError
    from .workers.file_source import check_audio_file

    if not job.source.exists():
        return EXIT_USAGE, "no such file."
    try:
        check_audio_file(job.source)
    except AudioSourceError as exc:
        return EXIT_INCOMPLETE, str(exc)
    if job.output.resolve() in taken:
        return EXIT_USAGE, (f"another file of this call is written to {job.output} already; "
                            "give it a different name or transcribe it separately.")
    if job.output.exists() and not overwrite:
        return EXIT_INCOMPLETE, f"{job.output} exists; left alone (use --overwrite, or --out DIR)."
    return None


def answer_model(llm: str | None, engine: str, settings: Settings) -> str:
    """The LLM that answers every turn: --llm, else the one chosen in the window for `engine`;
    UsageError when there is none (offline, none is chosen until the user picks one)."""
    model = (llm or settings.get(Key.EMBEDDED_LLM if engine == EMBEDDED_ENGINE
                                 else Key.CLOUD_LLM) or "").strip()
    if not model:
        raise UsageError("--prompt needs an LLM to answer with: pass --llm MODEL (a model the "
                         "embedded engine lists, such as a GGUF file's or a local Ollama or "
                         "LM Studio model's; smollm2-135m is a tiny demo that often invents "
                         "content), or choose one in Earmark's window.")
    return model


def make_plan(args: argparse.Namespace, library: PromptLibrary, settings: Settings) -> Plan:
    """Everything checked before the engine starts; UsageError for what stops it all."""
    from .credentials import load_api_key

    fmt = ExportFormat(args.format)
    prompt = find_prompt(library, args.prompt) if args.prompt else None
    if args.llm is not None and prompt is None:
        raise UsageError("--llm needs --prompt (the LLM answers every turn with a prompt).")
    llm = answer_model(args.llm, args.engine, settings) if prompt is not None else None
    key = cloud_key(load_api_key) if args.engine == CLOUD_ENGINE else None
    jobs, status, problems = plan_jobs(args.files, output_folder(args.out), fmt, args.overwrite)
    return Plan(jobs, fmt, args.engine, prompt, llm, key, args.sessions_dir, status, problems)


# --- running -------------------------------------------------------------------------------


def quiet_console() -> None:
    """The log goes to the log file only: standard error is for progress and problems. When
    the file cannot be written, errors still reach the terminal."""
    path = setup_logging()
    for handler in list(logging.getLogger().handlers):
        if type(handler) is logging.StreamHandler:
            if path is None:
                handler.setLevel(logging.ERROR)
            else:
                logging.getLogger().removeHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    """`earmark transcribe …` (argv without the program name and the word `transcribe`)."""
    args = build_parser().parse_args(list(sys.argv[2:] if argv is None else argv))
    quiet_console()
    log.info("%s %s: transcribe %s", APP_NAME, __version__, " ".join(map(str, args.files)))
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app = QCoreApplication.instance() or QCoreApplication([PROG])
    try:
        plan = make_plan(args, PromptLibrary(resource("prompts")), Settings())
    except UsageError as exc:
        say(str(exc))
        return EXIT_USAGE
    for problem in plan.problems:
        say(problem)
    if not plan.jobs:
        return plan.exit_status or EXIT_INCOMPLETE
    from .headless import run_batch

    status = run_batch(app, plan, quiet=args.quiet)
    return max(status, plan.exit_status) if status != EXIT_INTERRUPTED else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def console_main() -> int:
    """`earmark-transcribe FILE…`: the same, as a console program (Windows gives the
    `earmark` GUI program no console to print progress to)."""
    return main(sys.argv[1:])
