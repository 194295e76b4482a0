"""Speech recognition behind one interface (`SpeechBackend`, backend.py).

`load_backend(spec)` (registry.py) picks and loads the backend for a model spec; today every
spec runs on faster-whisper (faster_whisper.py), with model files found by model_files.py.
Importing this package loads no model library: a backend's imports happen when it loads.
"""

from .backend import MAX_CLIP_S, Decoded, DecodedWord, DecodeProfile, SpeechBackend
from .model_files import DEFAULT_MODEL, ModelNotFound
from .registry import BACKENDS, LoadOptions, UnknownBackend, choose_backend, load_backend
from .split import SplitBackend

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "MAX_CLIP_S",
    "DecodeProfile",
    "Decoded",
    "DecodedWord",
    "LoadOptions",
    "ModelNotFound",
    "SpeechBackend",
    "SplitBackend",
    "UnknownBackend",
    "choose_backend",
    "load_backend",
]
