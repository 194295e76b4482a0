"""Controllers: QObjects that turn user intents into worker calls and worker signals into
state the UI renders (list models). They own no widgets."""
