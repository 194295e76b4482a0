"""The UI: widgets and windows that render controller state and send intents. No I/O here."""
