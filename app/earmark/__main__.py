"""`python -m earmark` starts the desktop app."""

from .app import run

run()
