"""PyInstaller entry point of the `earmark` executable: the desktop app."""

import sys

from earmark.app import main

if __name__ == "__main__":
    sys.exit(main())
