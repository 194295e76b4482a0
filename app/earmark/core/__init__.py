"""The pure core: no Qt, no threads, no sockets. Protocol, turns, prompts, sessions on disk."""
