"""What one live session runs: where it connects, with which parameters, from which source."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core.prompts import Prompt
from ..core.protocol import Endpoint, StreamingParams
from ..core.protocol.endpoints import is_loopback
from ..workers.audio_sources import AudioSource


@dataclass(frozen=True, slots=True)
class SessionConfig:
    endpoint: Endpoint
    params: StreamingParams
    engine_label: str
    make_source: Callable[[], AudioSource]
    prompt_name: str = ""
    title: str = ""  # the session's title on disk; the prompt's name when empty
    prompt: Prompt | None = None  # what answers are checked against (core/grounding.py)
    from_file: bool = False  # a recording: its reading may wait for the server
    # where to connect again after a drop (the embedded engine may have restarted on another
    # port); raises when there is nowhere to connect yet
    reconnect_to: Callable[[], Endpoint] | None = None
    retry_for_s: float = 120.0  # how long a lost connection is tried again
    # a call: what the speakers play (the other side), as a second stream beside make_source
    system_source: Callable[[], AudioSource] | None = None

    @property
    def llm_model(self) -> str | None:
        return self.params.llm_gateway.model if self.params.llm_gateway else None

    @property
    def local(self) -> bool:
        """The embedded engine (or another server on this machine): fed as fast as it goes."""
        return is_loopback(self.endpoint.streaming_url)
