"""The pure core: no Qt, no sockets. Protocol, turns, prompts, audio format, sessions on disk."""
