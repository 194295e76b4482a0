"""The AssemblyAI API key, kept in the OS keyring and nowhere else (no QSettings, files or logs)."""

from __future__ import annotations

import logging

import keyring
from keyring.errors import KeyringError, NoKeyringError

log = logging.getLogger(__name__)

SERVICE = "Earmark"
ACCOUNT = "assemblyai-api-key"


class CredentialsUnavailable(RuntimeError):
    """No usable keyring backend, or it refused; the message says what to do."""


def _explain(exc: Exception) -> CredentialsUnavailable:
    if isinstance(exc, NoKeyringError):
        text = ("No system keyring is available, so the API key cannot be stored safely. "
                "Install and unlock a keyring (GNOME Keyring, KWallet, macOS Keychain or "
                "Windows Credential Manager), then enter the key again.")
    else:
        text = f"The system keyring refused the request: {exc}"
    return CredentialsUnavailable(text)


def load_api_key() -> str | None:
    try:
        return keyring.get_password(SERVICE, ACCOUNT) or None
    except (KeyringError, RuntimeError) as exc:
        log.warning("keyring unavailable: %s", type(exc).__name__)
        raise _explain(exc) from None


def save_api_key(key: str) -> None:
    key = key.strip()
    try:
        if key:
            keyring.set_password(SERVICE, ACCOUNT, key)
        else:
            delete_api_key()
    except (KeyringError, RuntimeError) as exc:
        raise _explain(exc) from None
    log.info("API key %s in the keyring", "stored" if key else "removed")


def delete_api_key() -> None:
    try:
        keyring.delete_password(SERVICE, ACCOUNT)
    except keyring.errors.PasswordDeleteError:
        pass
    except (KeyringError, RuntimeError) as exc:
        raise _explain(exc) from None


def mask(key: str) -> str:
    """What may be shown or logged of a key: its last four characters."""
    return f"…{key[-4:]}" if len(key) > 4 else "…"
