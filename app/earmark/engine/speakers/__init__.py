"""Speaker labels (diarization) for the engine's live sessions: a GE2E voice encoder
(resemblyzer's weights as ONNX, numpy front end), online clustering of final turns, and the
SpeakerRevision messages that re-clustering calls for. See live.py for the protocol side."""

from .encoder import VoiceEncoder
from .live import LiveSpeakers

__all__ = ["LiveSpeakers", "VoiceEncoder"]
