"""The inputs a person can record from: PortAudio's devices plus PulseAudio/PipeWire sources.

Each input has a stable `key` (built from names, never from PortAudio's indexes, which shift when
a device comes or goes) for remembering the choice. Monitors of outputs are "System audio (...)".
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from . import pulse

log = logging.getLogger(__name__)

# PortAudio's initialise/terminate and device enumeration are not thread-safe: the device poller
# and the capture thread both take this lock around them.
PORTAUDIO_LOCK = threading.RLock()

# PortAudio devices that reach the pulse server (whose source PULSE_SOURCE picks), best first.
# Not ALSA's "pipewire" device: it talks to PipeWire directly and ignores PULSE_SOURCE.
PULSE_DEVICE_NAMES = ("pulse", "default")


class InputKind(StrEnum):
    DEVICE = "device"  # a PortAudio input device
    SOURCE = "source"  # a PulseAudio/PipeWire source, reached through the "pulse" device
    SYSTEM_AUDIO = "system"  # a monitor source: what an output plays


@dataclass(frozen=True, slots=True)
class AudioInput:
    key: str  # stable across runs and re-plugging; store this, not an index
    label: str  # what the device list shows
    kind: InputKind
    is_default: bool = False
    device_name: str | None = None  # PortAudio's name (DEVICE)
    host_api: str | None = None  # PortAudio's host API (DEVICE)
    pulse_source: str | None = None  # the server's source name (SOURCE, SYSTEM_AUDIO)

    @property
    def display_name(self) -> str:
        return f"{self.label} (default)" if self.is_default else self.label


def device_key(host_api: str, name: str) -> str:
    return f"pa:{host_api}:{name}"


def source_key(source: str) -> str:
    return f"pulse:{source}"


def open_portaudio() -> Any:
    """A PyAudio instance (under PORTAUDIO_LOCK); raises OSError when there is no audio system."""
    import pyaudio

    with PORTAUDIO_LOCK:
        return pyaudio.PyAudio()


def close_portaudio(pa: Any) -> None:
    with PORTAUDIO_LOCK:
        pa.terminate()


def portaudio_inputs(pa: Any) -> list[AudioInput]:
    """Every PortAudio device with input channels, the default one marked."""
    try:
        default = pa.get_default_input_device_info()["index"]
    except OSError:
        default = None
    found = []
    for i in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(i)
        if int(info.get("maxInputChannels", 0)) <= 0:
            continue
        api = str(pa.get_host_api_info_by_index(info["hostApi"])["name"])
        found.append((str(info["name"]), api, i == default))
    per_name = Counter(name for name, _api, _default in found)
    inputs, seen = [], set()
    for name, api, is_default in found:
        key = device_key(api, name)
        if key in seen:  # two identical devices under one API: PortAudio cannot tell them apart
            continue
        seen.add(key)
        label = f"{name} ({api})" if per_name[name] > 1 else name
        inputs.append(AudioInput(key, label, InputKind.DEVICE, is_default, name, api))
    return inputs


def pulse_inputs(sources: list[pulse.PulseSource]) -> list[AudioInput]:
    inputs = []
    for src in sources:
        if src.is_monitor:
            inputs.append(AudioInput(source_key(src.name), f"System audio ({src.monitor_of})",
                                     InputKind.SYSTEM_AUDIO, pulse_source=src.name))
        else:
            inputs.append(AudioInput(source_key(src.name), src.description, InputKind.SOURCE,
                                     pulse_source=src.name))
    return inputs


def list_audio_inputs() -> list[AudioInput]:
    """PortAudio's inputs, then (where a pulse server runs) its sources and monitors.

    Empty when there is no audio system. Takes a fraction of a second: call it off the GUI
    thread (controllers.audio_devices does).
    """
    try:
        pa = open_portaudio()
    except OSError as exc:
        log.warning("audio system unavailable: %s", exc)
        return []
    try:
        with PORTAUDIO_LOCK:
            inputs = portaudio_inputs(pa)
            has_pulse_device = pulse_device_index(pa) is not None
    finally:
        close_portaudio(pa)
    if has_pulse_device and sys.platform.startswith("linux"):
        inputs += pulse_inputs(pulse.list_sources() or [])
    return inputs


def pulse_device_index(pa: Any) -> int | None:
    """The PortAudio input that reaches the pulse server, if there is one."""
    by_name = {}
    for i in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(i)
        if int(info.get("maxInputChannels", 0)) > 0:
            by_name.setdefault(str(info["name"]), i)
    for name in PULSE_DEVICE_NAMES:
        if name in by_name and (name != "default" or _default_is_pulse()):
            return by_name[name]
    return None


def _default_is_pulse() -> bool:
    # ALSA's "default" goes through the pulse server on desktops that run one.
    return bool(os.environ.get("PULSE_SERVER") or pulse.sources_fingerprint() is not None)


def find_device_index(pa: Any, wanted: AudioInput) -> int | None:
    """PortAudio's current index for `wanted`, or None when it is not connected."""
    if wanted.kind != InputKind.DEVICE:
        return pulse_device_index(pa)
    for i in range(pa.get_device_count()):
        info = pa.get_device_info_by_index(i)
        if int(info.get("maxInputChannels", 0)) <= 0 or str(info["name"]) != wanted.device_name:
            continue
        api = str(pa.get_host_api_info_by_index(info["hostApi"])["name"])
        if wanted.host_api in (None, api):
            return i
    return None
