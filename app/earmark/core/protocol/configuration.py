"""What the server says it applied (`Begin.configuration`), in words: since 2026 unknown or
misspelled parameters are ignored silently, so this, not the request, is what counts."""

from __future__ import annotations

from typing import Any

_LABELS = (("model", "model {}"), ("mode", "{} mode"), ("domain", "domain {}"),
           ("speaker_labels", "speaker labels"), ("redact_pii", "PII redaction"),
           ("filter_profanity", "profanity filter"), ("voice_focus", "voice focus"))


def describe_configuration(configuration: dict[str, Any] | None) -> str:
    """"model universal-3-6-pro · speaker labels" ("" when the server said nothing)."""
    if not configuration:
        return ""
    parts = []
    for key, template in _LABELS:
        value = configuration.get(key)
        if value is None or value is False:
            continue
        parts.append(template.format(value) if "{}" in template else template)
    return " · ".join(parts)


def applied_model(configuration: dict[str, Any] | None) -> str | None:
    model = (configuration or {}).get("model")
    return model if isinstance(model, str) and model else None
