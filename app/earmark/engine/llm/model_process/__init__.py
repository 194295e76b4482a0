"""Local models run in a process of their own, so a native fault in llama.cpp cannot stop the
engine (or the transcription it serves)."""

from .host import ModelProcessHost, ProcessStatus
from .messages import Job, Usage

__all__ = ["Job", "ModelProcessHost", "ProcessStatus", "Usage"]
