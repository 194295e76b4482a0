"""The embedded engine: a local AssemblyAI v3 + LLM Gateway server. Imports nothing from the UI."""
