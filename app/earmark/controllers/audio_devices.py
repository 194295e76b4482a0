"""The list of inputs for the device menu, kept current as devices come and go.

A QTimer polls a cheap fingerprint (on Linux the ALSA device nodes and the pulse server's source
names; about 10 ms) on a helper thread, and only when it changes enumerates the inputs again
(PortAudio plus pulse sources; a fraction of a second). Where no fingerprint exists, every poll
enumerates. `devices_changed` is emitted on the GUI thread, only when the list differs.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..workers import pulse
from ..workers.audio_inputs import AudioInput, list_audio_inputs

log = logging.getLogger(__name__)

POLL_MS = 2000


def device_fingerprint() -> str | None:
    """Changes when an input comes or goes; None where there is no cheap way to tell."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        nodes = ",".join(sorted(os.listdir("/dev/snd")))
    except OSError:
        nodes = ""
    return f"{nodes}\n{pulse.sources_fingerprint() or ''}"


class AudioDevices(QObject):
    """The current inputs. Call `start()` once; the list arrives with `devices_changed`."""

    devices_changed = Signal(list)  # list[AudioInput]
    _listed = Signal(list, object)  # from the helper thread: the inputs and their fingerprint

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = POLL_MS,
                 lister: Callable[[], list[AudioInput]] = list_audio_inputs,
                 fingerprint: Callable[[], str | None] = device_fingerprint) -> None:
        super().__init__(parent)
        self._lister = lister
        self._fingerprint = fingerprint
        self._devices: list[AudioInput] = []
        self._seen: str | None = None  # the fingerprint last enumerated for
        self._looked = False
        self._listed_once = False
        self._busy = threading.Lock()
        self._listed.connect(self._on_listed)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.poll)

    @property
    def devices(self) -> list[AudioInput]:
        return list(self._devices)

    def start(self) -> None:
        """Enumerate now (in the background) and then whenever the devices change."""
        self.poll(force=True)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self, force: bool = False) -> None:
        """Look for changes on a helper thread; does nothing while a look is under way."""
        if not self._busy.acquire(blocking=False):
            return
        threading.Thread(target=self._look, args=(force,), name="audio-devices",
                         daemon=True).start()

    def refresh(self) -> list[AudioInput]:
        """Enumerate now, on this thread; emits devices_changed if the list changed."""
        with self._busy:
            self._seen, self._looked = self._fingerprint(), True
            self._on_listed(self._lister(), self._seen)
        return self.devices

    def find(self, key: str | None) -> AudioInput | None:
        """The input with this stable key, if it is connected."""
        return next((d for d in self._devices if key and d.key == key), None)

    def default(self) -> AudioInput | None:
        return next((d for d in self._devices if d.is_default), None)

    def choose(self, key: str | None) -> AudioInput | None:
        """The remembered input if connected, else the default, else the first (or None)."""
        return self.find(key) or self.default() or next(iter(self._devices), None)

    def _look(self, force: bool) -> None:
        try:
            fingerprint = self._fingerprint()
            if force or not self._looked or fingerprint is None or fingerprint != self._seen:
                self._seen, self._looked = fingerprint, True
                self._listed.emit(self._lister(), fingerprint)
        except Exception:  # a poll must never take the app down
            log.exception("listing audio inputs failed")
        finally:
            self._busy.release()

    def _on_listed(self, devices: list[AudioInput], _fingerprint: str | None) -> None:
        first = not self._listed_once
        self._listed_once = True
        if first or devices != self._devices:
            self._devices = list(devices)
            log.info("audio inputs: %s", ", ".join(d.display_name for d in devices) or "none")
            self.devices_changed.emit(self.devices)
