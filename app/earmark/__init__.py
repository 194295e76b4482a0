"""Earmark: a live transcript and an LLM's reading of every turn of a conversation."""

__version__ = "0.1.0"
APP_NAME = "Earmark"
ORG_NAME = "Earmark"
