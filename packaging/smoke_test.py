#!/usr/bin/env python3
"""Smoke test of the built bundle (dist/earmark/), as a user would start it: a clean
environment (no PYTHONPATH, PATH without any venv, a temporary HOME and XDG folders, cwd a
temporary folder), on a private Xvfb display.

1. `earmark FILE`: the main window appears (time-to-window is measured), the file is transcribed
   by the embedded engine as a session saved under $XDG_DATA_HOME/Earmark/sessions, the session
   ends "complete" with a transcript close to the reference (WER < --max-wer), and the window
   closes cleanly (WM_DELETE_WINDOW, exit status 0).
2. `earmark-engine`: starts, loads the speech model, lists the bundled SmolLM2, transcribes the
   same file over its AssemblyAI v3 WebSocket, and exits 0 on SIGTERM.

    .venv/bin/python packaging/smoke_test.py [--bundle dist/earmark] [--file REL_OR_ABS_WAV]

Needs Xvfb (xvfb package), and for part 2 the `websocket-client` package in the Python running
this script (it is in the app's venv). The window is found and closed through libX11 (ctypes);
xdotool is only a fallback for finding it. Only the standard library otherwise.
Exit status 0 when every check passed, 1 when one failed, 2 when there is nothing to test.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import wave
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEECH = Path(os.environ.get("EARMARK_SPEECH_DIR", "/work/shared/speech"))
DEFAULT_FILE = "librispeech/test-clean/1221-135766-0001.wav"
WINDOW_NAME = "Earmark"


# ---------------------------------------------------------------- results and helpers

class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.measures: dict[str, str] = {}

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        print(f"[{'PASS' if ok else 'FAIL'}] {what}" + (f": {detail}" if detail else ""),
              flush=True)
        if not ok:
            self.failures.append(what)
        return ok

    def measure(self, name: str, value: str) -> None:
        self.measures[name] = value
        print(f"[INFO] {name}: {value}", flush=True)


def words_of(text: str) -> list[str]:
    text = text.upper().replace("’", "'")
    return re.findall(r"[A-Z0-9']+", text)


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words_of(reference), words_of(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1] / len(ref)


def reference_text(path: Path) -> str | None:
    manifest = SPEECH / "manifest.tsv"
    if not manifest.is_file():
        return None
    with manifest.open(encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(header, line.rstrip("\n").split("\t"), strict=False))
            if (SPEECH / row.get("file", "")).resolve() == path.resolve():
                return row.get("reference_text")
    return None


def clean_env(root: Path, display: str | None) -> dict[str, str]:
    """What a freshly logged-in user would have: no venv, no PYTHON*, empty settings."""
    env = {"HOME": str(root / "home"), "PATH": "/usr/local/bin:/usr/bin:/bin",
           "LANG": "C.UTF-8", "USER": os.environ.get("USER", "smoke"),
           "XDG_CONFIG_HOME": str(root / "config"), "XDG_DATA_HOME": str(root / "data"),
           "XDG_CACHE_HOME": str(root / "cache"), "XDG_STATE_HOME": str(root / "state"),
           "XDG_RUNTIME_DIR": str(root / "runtime")}
    if display:
        env["DISPLAY"] = display
    for key in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME",
                "XDG_RUNTIME_DIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    os.chmod(env["XDG_RUNTIME_DIR"], 0o700)
    return env


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 15.0) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """A private X display (Xvfb picks a free number and writes it to a pipe)."""
    exe = shutil.which("Xvfb")
    if exe is None:
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write_fd), "-screen", "0", "1280x900x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise SystemExit("Xvfb did not start")
        yield f":{number}"
    finally:
        stop(proc)


# ---------------------------------------------------------------- X11: find and close a window

class _XWindowAttributes(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int),
                ("height", ctypes.c_int), ("border_width", ctypes.c_int),
                ("depth", ctypes.c_int), ("visual", ctypes.c_void_p),
                ("root", ctypes.c_ulong), ("class_", ctypes.c_int),
                ("bit_gravity", ctypes.c_int), ("win_gravity", ctypes.c_int),
                ("backing_store", ctypes.c_int), ("backing_planes", ctypes.c_ulong),
                ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int),
                ("colormap", ctypes.c_ulong), ("map_installed", ctypes.c_int),
                ("map_state", ctypes.c_int), ("all_event_masks", ctypes.c_long),
                ("your_event_mask", ctypes.c_long), ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p)]


class _XClientMessageEvent(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int), ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong), ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int), ("data", ctypes.c_long * 5)]


class _XEvent(ctypes.Union):
    _fields_ = [("xclient", _XClientMessageEvent), ("pad", ctypes.c_long * 24)]


class X11:
    """The few Xlib calls needed, through ctypes (no xdotool / python-xlib needed)."""

    IS_VIEWABLE = 2
    CLIENT_MESSAGE = 33

    def __init__(self, display: str) -> None:
        name = ctypes.util.find_library("X11")
        if name is None:
            raise RuntimeError("libX11 not found")
        x = self.lib = ctypes.CDLL(name)
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.c_ulong),
                                 ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                 ctypes.POINTER(ctypes.c_uint)]
        x.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                 ctypes.POINTER(ctypes.c_char_p)]
        x.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                           ctypes.POINTER(_XWindowAttributes)]
        x.XInternAtom.restype = ctypes.c_ulong
        x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long,
                                 ctypes.POINTER(_XEvent)]
        x.XFree.argtypes = [ctypes.c_void_p]
        x.XFlush.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.dpy = x.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open display {display}")

    def close(self) -> None:
        self.lib.XCloseDisplay(self.dpy)

    def _children(self, window: int) -> list[int]:
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not self.lib.XQueryTree(self.dpy, window, ctypes.byref(root), ctypes.byref(parent),
                                   ctypes.byref(children), ctypes.byref(count)):
            return []
        found = [children[i] for i in range(count.value)]
        if children:
            self.lib.XFree(children)
        return found

    def _name(self, window: int) -> str | None:
        name = ctypes.c_char_p()
        if not self.lib.XFetchName(self.dpy, window, ctypes.byref(name)) or not name.value:
            return None
        text = name.value.decode("latin-1")
        self.lib.XFree(name)
        return text

    def viewable_windows(self, title: str) -> list[int]:
        found, todo = [], [self.lib.XDefaultRootWindow(self.dpy)]
        while todo:
            window = todo.pop()
            todo.extend(self._children(window))
            if self._name(window) == title:
                attrs = _XWindowAttributes()
                if self.lib.XGetWindowAttributes(self.dpy, window, ctypes.byref(attrs)) and \
                        attrs.map_state == self.IS_VIEWABLE:
                    found.append(window)
        return found

    def request_close(self, window: int) -> None:
        """What a window manager's close button does: a WM_DELETE_WINDOW client message."""
        event = _XEvent()
        event.xclient.type = self.CLIENT_MESSAGE
        event.xclient.window = window
        event.xclient.message_type = self.lib.XInternAtom(self.dpy, b"WM_PROTOCOLS", 0)
        event.xclient.format = 32
        event.xclient.data[0] = self.lib.XInternAtom(self.dpy, b"WM_DELETE_WINDOW", 0)
        event.xclient.data[1] = 0  # CurrentTime
        self.lib.XSendEvent(self.dpy, window, 0, 0, ctypes.byref(event))
        self.lib.XFlush(self.dpy)


def find_window(display: str, x11: X11 | None) -> int | None:
    if x11 is None and shutil.which("xdotool"):
        done = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"^{WINDOW_NAME}$"],
                              env={**os.environ, "DISPLAY": display}, capture_output=True,
                              text=True)
        ids = done.stdout.split()
        return int(ids[0]) if ids else None
    found = x11.viewable_windows(WINDOW_NAME) if x11 else []
    return found[0] if found else None


# ---------------------------------------------------------------- 1: the app, with a file

def read_sessions(root: Path) -> list[tuple[Path, dict]]:
    found = []
    for meta_path in sorted(root.glob("*/session.json")):
        with contextlib.suppress(OSError, ValueError):
            found.append((meta_path.parent, json.loads(meta_path.read_text(encoding="utf-8"))))
    return found


def transcript_text(folder: Path) -> str:
    turns: dict[int, str] = {}
    path = folder / "transcript.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            record = json.loads(line)
            turns[int(record["turn_order"])] = record["text"]
    return " ".join(turns[k] for k in sorted(turns))


def test_app(bundle: Path, speech_file: Path, reference: str | None, args, report: Report) -> None:
    exe = bundle / "earmark"
    with tempfile.TemporaryDirectory(prefix="earmark-smoke-") as tmp, xvfb() as display:
        root = Path(tmp)
        env = clean_env(root, display)
        log_file = root / "state" / "Earmark" / "log" / "earmark.log"
        sessions = root / "data" / "Earmark" / "sessions"
        try:
            x11 = X11(display)
        except (OSError, RuntimeError) as exc:
            x11 = None
            print(f"[WARN] libX11 unusable ({exc}): "
                  + ("xdotool finds the window, SIGTERM ends the app" if shutil.which("xdotool")
                     else "no way to see the window"))
        out = (root / "stdout.txt").open("wb")
        started = time.monotonic()
        proc = subprocess.Popen([str(exe), str(speech_file)], cwd=root, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            window = None
            while time.monotonic() - started < args.window_timeout and proc.poll() is None:
                window = find_window(display, x11)
                if window:
                    break
                time.sleep(0.05)
            if report.check(window is not None, "main window appears",
                            f"exit status {proc.returncode}" if proc.poll() is not None else ""):
                report.measure("time to window", f"{time.monotonic() - started:.2f} s")

            folder, meta = None, {}
            deadline = started + args.session_timeout
            while time.monotonic() < deadline and proc.poll() is None:
                done = [(f, m) for f, m in read_sessions(sessions) if m.get("status") == "complete"]
                if done:
                    folder, meta = done[0]
                    break
                time.sleep(0.25)
            elapsed = time.monotonic() - started
            ok = report.check(folder is not None, "file transcribed as a complete session",
                              f"{folder.name} after {elapsed:.1f} s" if folder else
                              _session_hint(sessions, log_file))
            if ok:
                text = transcript_text(folder)
                report.measure("launch to saved session", f"{elapsed:.1f} s")
                print(f"       transcript: {text}")
                if reference:
                    score = wer(reference, text)
                    report.check(score < args.max_wer, "transcript matches the reference",
                                 f"WER {score:.3f} (limit {args.max_wer})")
                answers = _llm_answers(folder)
                print(f"[INFO] per-turn LLM answers saved: {len(answers)}"
                      + "".join(f"; error: {a['error']}" for a in answers if a.get("error")))
                report.check("embedded" in str(meta.get("engine")).lower(),
                             "session used the embedded engine",
                             str(meta.get("engine")))

            if window is not None and proc.poll() is None:
                closed = time.monotonic()
                if x11:
                    x11.request_close(window)
                else:
                    proc.terminate()
                try:
                    code = proc.wait(args.quit_timeout)
                    report.check(code == 0 or (x11 is None and code == -signal.SIGTERM),
                                 "app quits cleanly when its window is closed",
                                 f"exit status {code} after {time.monotonic() - closed:.1f} s")
                except subprocess.TimeoutExpired:
                    report.check(False, "app quits cleanly when its window is closed",
                                 f"still running {args.quit_timeout} s later")
            elif proc.poll() is not None:
                report.check(False, "app still running at the end",
                             f"exit status {proc.returncode}")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            out.close()
            if x11:
                x11.close()
            _show_problems(log_file, root / "stdout.txt", report)


def _llm_answers(folder: Path) -> list[dict]:
    path = folder / "llm.jsonl"
    answers = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        with contextlib.suppress(ValueError):
            answers.append(json.loads(line))
    return [a for a in answers if isinstance(a, dict)]


def _session_hint(sessions: Path, log_file: Path) -> str:
    found = read_sessions(sessions)
    if found:
        return "sessions: " + ", ".join(f"{f.name} ({m.get('status')})" for f, m in found)
    text = log_file.read_text(errors="replace") if log_file.exists() else ""
    if "transcribing" not in text:
        return "no session and no 'transcribing' in the log: does `earmark FILE` exist yet?"
    return "no session folder"


def _show_problems(log_file: Path, stdout: Path, report: Report) -> None:
    lines = log_file.read_text(errors="replace").splitlines() if log_file.exists() else []
    report.check(bool(lines), "app writes its log file", str(log_file.name))
    bad = [ln for ln in lines if " ERROR " in ln or " CRITICAL " in ln]
    trace = "Traceback" in (stdout.read_text(errors="replace") if stdout.exists() else "")
    for ln in bad[:10]:
        print(f"       log: {ln}")
    report.check(not trace, "no Python traceback on stderr")


# ---------------------------------------------------------------- 2: the standalone engine

def test_engine(bundle: Path, speech_file: Path, reference: str | None, args,
                report: Report) -> None:
    exe = bundle / "earmark-engine"
    if not exe.exists():
        print("[SKIP] no earmark-engine executable in the bundle")
        return
    with tempfile.TemporaryDirectory(prefix="earmark-smoke-engine-") as tmp:
        root = Path(tmp)
        started = time.monotonic()
        proc = subprocess.Popen([str(exe), "--port", "0"], cwd=root, env=clean_env(root, None),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
        lines: list[str] = []
        ready = threading.Event()

        def pump() -> None:
            for line in proc.stdout:
                lines.append(line.rstrip("\n"))
                if line.startswith("speech: "):
                    ready.set()
            ready.set()

        threading.Thread(target=pump, daemon=True).start()
        try:
            ready.wait(args.window_timeout + 60)
            info = {key: value.strip() for key, value in (
                ln.split(":", 1) for ln in lines if re.match(r"^(ws|http|token|speech):", ln))}
            if not report.check(info.get("speech") == "ready", "engine loads its speech model",
                                f"{time.monotonic() - started:.1f} s" if info.get("speech")
                                == "ready" else "; ".join(lines[-5:])):
                return
            with urllib.request.urlopen(info["http"] + "/v1/models", timeout=10) as response:
                models = [m.get("id") for m in json.load(response).get("data", [])]
            report.check(any("smollm2" in (m or "") for m in models),
                         "engine lists the bundled SmolLM2", ", ".join(map(str, models)))
            try:
                text = stream_file(info["ws"], info["token"], speech_file)
            except ImportError:
                print("[SKIP] websocket-client is not installed here: no streaming check")
            else:
                print(f"       transcript: {text}")
                score = wer(reference, text) if reference else 0.0
                report.check(bool(text) and score < args.max_wer,
                             "engine transcribes the file over the v3 WebSocket",
                             f"WER {score:.3f}" if reference else "")
        finally:
            code = stop(proc)
            report.check(code == 0, "engine exits cleanly on SIGTERM", f"exit status {code}")


def stream_file(ws_url: str, token: str, path: Path) -> str:
    import websocket  # websocket-client

    with wave.open(str(path)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (16000, 1, 2):
            raise SystemExit(f"{path} is not 16 kHz mono 16-bit: pick another --file")
        pcm = w.readframes(w.getnframes())
    ws = websocket.create_connection(f"{ws_url}?sample_rate=16000&encoding=pcm_s16le",
                                     header=[f"Authorization: {token}"], timeout=60)
    turns: dict[int, str] = {}

    def receive() -> None:
        with contextlib.suppress(Exception):
            while True:
                message = json.loads(ws.recv())
                if message.get("type") == "Turn" and message.get("end_of_turn"):
                    turns[message["turn_order"]] = message.get("transcript", "")
                elif message.get("type") == "Termination":
                    return

    reader = threading.Thread(target=receive, daemon=True)
    reader.start()
    chunk = 16000 * 2 // 10  # 100 ms
    for i in range(0, len(pcm), chunk):
        ws.send_binary(pcm[i:i + chunk])
        time.sleep(0.025)  # 4x real time
    ws.send(json.dumps({"type": "Terminate"}))
    reader.join(60)
    with contextlib.suppress(Exception):
        ws.close()
    return " ".join(turns[k] for k in sorted(turns))


# ---------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bundle", type=Path, default=REPO / "dist" / "earmark")
    p.add_argument("--file", default=DEFAULT_FILE,
                   help=f"speech file, absolute or under {SPEECH} (default {DEFAULT_FILE})")
    p.add_argument("--max-wer", type=float, default=0.5)
    p.add_argument("--window-timeout", type=float, default=60.0)
    p.add_argument("--session-timeout", type=float, default=240.0)
    p.add_argument("--quit-timeout", type=float, default=30.0)
    p.add_argument("--skip-app", action="store_true", help="only test earmark-engine")
    p.add_argument("--skip-engine", action="store_true", help="only test the app")
    args = p.parse_args(argv)

    bundle = args.bundle.resolve()
    if not (bundle / "earmark").is_file():
        print(f"No bundle at {bundle}: run packaging/build-bundle.sh first", file=sys.stderr)
        return 2
    speech_file = Path(args.file) if Path(args.file).is_absolute() else SPEECH / args.file
    if not speech_file.is_file():
        print(f"No speech file {speech_file}", file=sys.stderr)
        return 2
    reference = reference_text(speech_file)
    report = Report()
    size = subprocess.run(["du", "-sh", str(bundle)], capture_output=True, text=True)
    report.measure("bundle size", size.stdout.split()[0] if size.stdout else "?")
    print(f"[INFO] speech file: {speech_file}" + ("" if reference else " (no reference text)"))
    if not args.skip_app:
        test_app(bundle, speech_file, reference, args, report)
    if not args.skip_engine:
        test_engine(bundle, speech_file, reference, args, report)
    print()
    for name, value in report.measures.items():
        print(f"{name}: {value}")
    if report.failures:
        print(f"FAILED: {len(report.failures)} check(s): " + "; ".join(report.failures))
        return 1
    print("All smoke checks passed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
