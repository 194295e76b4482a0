"""`earmark-engine`: the embedded engine on its own (AssemblyAI v3 + LLM Gateway on loopback)."""

from __future__ import annotations

import argparse
import faulthandler
import logging
import os
import signal
import sys
import threading

from earmark.core.protocol.endpoints import ENGINE_TOKEN_ENV as TOKEN_ENV

from .runner import EngineOptions, EngineRunner
from .speech import DEFAULT_MODEL

EPILOG = """\
Clients connect like to AssemblyAI: ws://HOST:PORT/v3/ws?sample_rate=16000&... with the token
as the `Authorization` header (the Python SDK: api_key=TOKEN, api_host="ws://HOST:PORT") or as
`?token=`. LLM Gateway requests go to http://HOST:PORT/v1/chat/completions.
Speech models: whisper-tiny.en (bundled, default), whisper-base (bundled in two packages,
joined once into --model-dir or the user cache), a CTranslate2 Whisper directory, or a
faster-whisper name such as base.en (only from the local cache unless --allow-download);
KIND:NAME picks the backend outright (faster-whisper:base.en). With --final-speech-model,
partials decode on --speech-model and final turns on the other model.
"""


def _threads(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (automatic) or a number of threads")
    return value


def _sessions(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (automatic) or a number of sessions")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="earmark-engine", description=__doc__, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; anything else exposes the engine)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    p.add_argument("--token", default=None,
                   help=f"credential clients must send (default: ${TOKEN_ENV} when set, else a "
                        "random one, printed)")
    p.add_argument("--speech-model", default=DEFAULT_MODEL, metavar="NAME|DIR",
                   help="whisper-tiny.en | whisper-base | PATH_TO_CT2_DIR | hub name "
                        f"(default {DEFAULT_MODEL})")
    p.add_argument("--final-speech-model", default=None, metavar="NAME|DIR",
                   help="decode final turns on this model (e.g. whisper-base) and partials on "
                        "--speech-model (default: both on --speech-model)")
    p.add_argument("--model-dir", default=None,
                   help="directory for joined or downloaded speech models")
    p.add_argument("--allow-download", action="store_true",
                   help="let faster-whisper download a hub model that is not cached")
    p.add_argument("--llm-model", default=None,
                   help="default model of the built-in LLM service")
    p.add_argument("--cpu-threads", type=_threads, default=0,
                   help="CTranslate2 threads per decode; two decodes may run at once "
                        "(default min(4, cores))")
    p.add_argument("--exit-with-stdin", action="store_true",
                   help="stop when standard input closes (how the app ties the engine to itself)")
    p.add_argument("--max-sessions", type=_sessions, default=0,
                   help="sessions served at once; the next is closed with 3009 "
                        "(default 0: two per core, at least 4)")
    p.add_argument("--allowed-origin", action="append", default=[], metavar="ORIGIN",
                   help="a web page origin (scheme://host[:port]) that may connect; repeat for "
                        "more. Requests with any other Origin header are refused (403)")
    p.add_argument("--log-level", default="INFO",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="default INFO")
    return p


def _watch_stdin(done: threading.Event) -> None:
    """Set `done` when standard input reaches its end: the process that started us is gone."""
    def read() -> None:
        while sys.stdin.buffer.read(4096):
            pass
        done.set()

    threading.Thread(target=read, name="stdin-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faulthandler.enable()  # a native fault leaves a Python traceback on stderr (the app's log)
    token_from_env = args.token is None and bool(os.environ.get(TOKEN_ENV))
    token = args.token or os.environ.get(TOKEN_ENV) or None
    runner = EngineRunner(EngineOptions(
        host=args.host, port=args.port, token=token, speech_model=args.speech_model,
        final_speech_model=args.final_speech_model, model_dir=args.model_dir,
        allow_download=args.allow_download, llm_model=args.llm_model,
        cpu_threads=args.cpu_threads,
        max_sessions=args.max_sessions, allowed_origins=tuple(args.allowed_origin)))
    runner.start()
    if not runner.wait_listening(30):
        print(f"earmark-engine: could not start: {runner.start_error}", file=sys.stderr)
        return 1
    print(f"ws:    {runner.ws_url}", flush=True)
    print(f"http:  {runner.http_url}", flush=True)
    print(f"token: {'(from $' + TOKEN_ENV + ')' if token_from_env else runner.token}",
          flush=True)

    def on_ready(error: str | None) -> None:
        print("speech: ready" if error is None else f"speech: FAILED: {error}", flush=True)

    runner.add_ready_callback(on_ready)
    done = threading.Event()
    if args.exit_with_stdin:
        _watch_stdin(done)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(0.5):
        if runner.start_error is not None:
            break
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
