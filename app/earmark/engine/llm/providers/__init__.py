"""Backends the registry routes chat requests to, one module each."""

from .base import Provider

__all__ = ["Provider"]
