"""Settings of the whole-session analysis: analyse on Stop, the Gateway's fallback models and an
optional LLM Gateway URL (a proxy or self-hosted gateway, like the SDK's
`llm_gateway_base_url`), read from and written to `settings.Settings`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from .settings import Key, Settings

MAX_FALLBACKS = 2


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    analyse_on_stop: bool = True
    fallbacks: tuple[str, ...] = ()
    gateway_url: str = ""

    @classmethod
    def load(cls, settings: Settings) -> AnalysisSettings:
        raw = settings.get(Key.ANALYSIS_FALLBACKS)
        return cls(analyse_on_stop=settings.get(Key.ANALYSE_ON_STOP),
                   fallbacks=tuple(m for m in raw.split(",") if m)[:MAX_FALLBACKS],
                   gateway_url=settings.get(Key.ANALYSIS_GATEWAY_URL))

    def save(self, settings: Settings) -> None:
        settings.set(Key.ANALYSE_ON_STOP, self.analyse_on_stop)
        settings.set(Key.ANALYSIS_FALLBACKS, ",".join(m for m in self.fallbacks if m)[:500])
        settings.set(Key.ANALYSIS_GATEWAY_URL, self.gateway_url)


def normalise_http_url(url: str) -> str:
    """`host[:port]` or an http(s) URL, without a trailing `/v1`; ValueError otherwise."""
    url = url.strip().rstrip("/")
    if not url:
        return ""
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) address: {url}")
    path = parts.path[:-3] if parts.path.endswith("/v1") else parts.path
    return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")
