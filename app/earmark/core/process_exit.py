"""How a child process ended, in words for the log and the window."""

from __future__ import annotations

import signal


def describe_exit(exitcode: int | None) -> str:
    """'signal SIGSEGV (Segmentation fault)', 'exit code 3', … (negative codes are signals, as
    subprocess and multiprocessing report them)."""
    if exitcode is None:
        return "an unknown cause"
    if exitcode < 0:
        try:
            sig = signal.Signals(-exitcode)
        except ValueError:
            return f"signal {-exitcode}"
        return f"signal {sig.name} ({signal.strsignal(sig) or sig.name})"
    return f"exit code {exitcode}"
