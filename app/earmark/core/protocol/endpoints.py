"""Where a v3 session connects: AssemblyAI's regions, a self-hosted stack, or the local engine."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from .params import StreamingParams

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# How the app hands the embedded engine its per-run token: the environment, not the command
# line, where other users of the machine could read it.
ENGINE_TOKEN_ENV = "EARMARK_ENGINE_TOKEN"


def is_loopback(url: str) -> bool:
    """Whether `url` points at this machine (the embedded engine, not "the network")."""
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


class Region(StrEnum):
    EDGE = "edge"
    US = "us"
    EU = "eu"


STREAMING_URLS: dict[Region, str] = {
    Region.EDGE: "wss://streaming.assemblyai.com/v3/ws",
    Region.US: "wss://streaming.us.assemblyai.com/v3/ws",
    Region.EU: "wss://streaming.eu.assemblyai.com/v3/ws",
}

LLM_GATEWAY_URLS: dict[Region, str] = {
    Region.EDGE: "https://llm-gateway.assemblyai.com",
    Region.US: "https://llm-gateway.assemblyai.com",
    Region.EU: "https://llm-gateway.eu.assemblyai.com",
}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A v3 websocket URL (without query), the credential sent as `Authorization`,
    and the base URL of the matching chat-completions API."""

    streaming_url: str
    credential: str
    llm_base_url: str

    def session_url(self, params: StreamingParams) -> str:
        return f"{self.streaming_url}?{params.query_string()}"

    def headers(self) -> dict[str, str]:
        # The raw key, no "Bearer": that is what the streaming service takes.
        return {"Authorization": self.credential}


def cloud_endpoint(api_key: str, region: Region = Region.EDGE,
                   custom_url: str | None = None) -> Endpoint:
    """AssemblyAI's service, or a self-hosted streaming stack at `custom_url`."""
    url = normalise_ws_url(custom_url) if custom_url else STREAMING_URLS[region]
    return Endpoint(url, api_key, LLM_GATEWAY_URLS[region])


def local_endpoint(host: str, port: int, token: str) -> Endpoint:
    """The embedded engine on loopback."""
    return Endpoint(f"ws://{host}:{port}/v3/ws", token, f"http://{host}:{port}")


def normalise_ws_url(url: str) -> str:
    """Accept `host:port`, `http(s)://` or `ws(s)://`, with or without a path."""
    url = url.strip()
    if "://" not in url:
        url = "wss://" + url
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in {"ws", "wss"}:
        raise ValueError(f"not a websocket URL: {url}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
