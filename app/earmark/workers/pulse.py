"""PulseAudio / PipeWire sources through `pactl`, for what PortAudio cannot see.

PortAudio reaches PulseAudio (and PipeWire's pulse server) through ALSA's single "pulse" device,
which records from the server's default source. The sources themselves, monitors included
("what the speakers play"), come from `pactl`; a stream is sent to one of them by setting
PULSE_SOURCE while the "pulse" device is opened (libpulse reads it when the stream connects).
Everything here returns None or an empty list when there is no pactl or no server.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

log = logging.getLogger(__name__)

PACTL_TIMEOUT_S = 2.0
_MONITOR_PREFIX = "Monitor of "
_env_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class PulseSource:
    name: str  # e.g. "alsa_input.pci-0000_00_1f.3.analog-stereo" or "earmark_mic.monitor"
    description: str  # what the desktop shows, e.g. "Built-in Audio Analog Stereo"
    monitor_of: str | None = None  # the output (sink) description when this is a monitor

    @property
    def is_monitor(self) -> bool:
        return self.monitor_of is not None


def _pactl(*args: str) -> str | None:
    exe = shutil.which("pactl")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, *args], capture_output=True, text=True,
                              timeout=PACTL_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("pactl %s: %s", " ".join(args), exc)
        return None
    return done.stdout if done.returncode == 0 else None


def parse_sources_json(sources_text: str, sinks_text: str | None = None) -> list[PulseSource]:
    """`pactl -f json list sources` (and `... sinks`, for the outputs' names)."""
    sinks = {}
    if sinks_text:
        sinks = {s.get("name"): s.get("description") or s.get("name")
                 for s in json.loads(sinks_text)}
    out = []
    for src in json.loads(sources_text):
        name = str(src.get("name", ""))
        description = str(src.get("description") or name)
        props = src.get("properties") or {}
        # For a monitor, pactl's "monitor_source" field names the sink it monitors.
        sink = src.get("monitor_source") or src.get("monitor_of_sink")
        is_monitor = (props.get("device.class") == "monitor" or name.endswith(".monitor")
                      or bool(sink and sink not in ("n/a", name)))
        monitor_of = None
        if is_monitor:
            monitor_of = sinks.get(sink) or description.removeprefix(_MONITOR_PREFIX)
        out.append(PulseSource(name, description, monitor_of))
    return out


def parse_sources_short(text: str) -> list[PulseSource]:
    """`pactl list short sources`: index, name, driver, format, state per tab-separated line."""
    out = []
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) < 2 or not fields[1]:
            continue
        name = fields[1]
        monitor_of = name.removesuffix(".monitor") if name.endswith(".monitor") else None
        out.append(PulseSource(name, name, monitor_of))
    return out


def list_sources() -> list[PulseSource] | None:
    """The server's sources, or None when there is no pactl or no server."""
    text = _pactl("-f", "json", "list", "sources")
    if text is not None:
        try:
            return parse_sources_json(text, _pactl("-f", "json", "list", "sinks"))
        except (ValueError, TypeError, AttributeError) as exc:  # an old pactl's broken JSON
            log.debug("pactl JSON unusable: %s", exc)
    text = _pactl("list", "short", "sources")
    return None if text is None else parse_sources_short(text)


def sources_fingerprint() -> str | None:
    """A cheap summary that changes when a source comes or goes (one ~10 ms pactl call)."""
    text = _pactl("list", "short", "sources")
    if text is None:
        return None
    return "\n".join(sorted(line.split("\t")[1] for line in text.splitlines() if "\t" in line))


def source_exists(name: str) -> bool | None:
    """Whether the server still has the source; None when that cannot be told."""
    text = _pactl("list", "short", "sources")
    if text is None:
        return None
    return any(s.name == name for s in parse_sources_short(text))


@contextmanager
def routed_to(source: str | None) -> Iterator[None]:
    """PULSE_SOURCE set to `source` for the duration (a stream opened inside records from it)."""
    if source is None:
        yield
        return
    with _env_lock:
        previous = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = source
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("PULSE_SOURCE", None)
            else:
                os.environ["PULSE_SOURCE"] = previous
