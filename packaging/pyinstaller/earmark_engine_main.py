"""PyInstaller entry point of the `earmark-engine` executable: the embedded engine on its own."""

import sys

from earmark.engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
