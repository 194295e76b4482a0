"""The input selector: every microphone, pulse source and "System audio (…)" monitor, the
system default marked, and for each monitor a call: the default microphone ("You") and what
that output plays (the other side) as two streams. It keeps the user's choice by its stable
key while the list changes, and shows a remembered device that is unplugged as such instead of
silently picking another."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ..workers.audio_inputs import AudioInput, InputKind
from .eliding_combo import ElidingComboBox

DEFAULT_INPUT = ""  # the key of "whatever the system's default input is"
CALL = "call:"  # before a monitor's key: the default microphone and that monitor, together


class InputPicker(ElidingComboBox):
    def __init__(self, parent=None) -> None:
        super().__init__(parent, min_chars=16)
        self.setToolTip("What Earmark listens to: a microphone, or system audio to transcribe "
                        "a call or a video")
        self._devices: list[AudioInput] = []
        self._wanted = DEFAULT_INPUT
        self._labels: dict[str, str] = {}  # every key seen this run, for an unplugged one
        self.set_devices([])
        self.activated.connect(lambda _i: self._remember_current())

    def set_devices(self, devices: list[AudioInput]) -> None:
        """Refill the list; the chosen key stays chosen (marked unplugged if it went away)."""
        self._devices = list(devices)
        self._labels.update((d.key, d.label) for d in devices)
        self.blockSignals(True)
        self.clear()
        default = next((d for d in devices if d.is_default), None)
        self.addItem(f"Default input ({default.label})" if default else "Default input",
                     DEFAULT_INPUT)
        for device in devices:
            self.addItem(device.display_name, device.key)
        for device in devices:
            if device.kind == InputKind.SYSTEM_AUDIO:
                self.addItem(f"Call: microphone + {device.label}", CALL + device.key)
                self.setItemData(self.count() - 1, "Your microphone is “You”; what this output "
                                 "plays is the other side, labelled by speaker. Both are saved.",
                                 Qt.ItemDataRole.ToolTipRole)
        if self._wanted and self.findData(self._wanted) < 0:
            label = self._labels.get(self._wanted) or _label_from_key(self._wanted)
            self.addItem(f"{label} (not connected)", self._wanted)
        self.setCurrentIndex(max(0, self.findData(self._wanted)))
        self.blockSignals(False)

    def select_key(self, key: str) -> None:
        self._wanted = key or DEFAULT_INPUT
        self.set_devices(self._devices)

    def selected_key(self) -> str:
        return self._wanted

    def selected_device(self) -> AudioInput | None:
        """The chosen input if connected; for "Default input", the system default (None when
        there is no device list: PortAudio's default is used)."""
        if self._wanted == DEFAULT_INPUT or self._wanted.startswith(CALL):
            return next((d for d in self._devices if d.is_default), None)
        return next((d for d in self._devices if d.key == self._wanted), None)

    def selected_call_audio(self) -> AudioInput | None:
        """On a call, the output whose sound is the other side (None: not a call)."""
        if not self._wanted.startswith(CALL):
            return None
        key = self._wanted.removeprefix(CALL)
        return next((d for d in self._devices if d.key == key), None)

    def is_unplugged(self) -> bool:
        if self._wanted.startswith(CALL):
            return self.selected_call_audio() is None
        return self._wanted != DEFAULT_INPUT and self.selected_device() is None

    def _remember_current(self) -> None:
        self._wanted = self.currentData() or DEFAULT_INPUT


def _label_from_key(key: str) -> str:
    """"pa:ALSA:USB Mic" → "USB Mic"; "pulse:alsa_input.usb" → "alsa_input.usb"."""
    key = key.removeprefix(CALL)
    kind, _, rest = key.partition(":")
    return rest.partition(":")[2] if kind == "pa" else rest
