"""PyInstaller entry point of the `earmark-engine` executable: the embedded engine on its own,
and (through multiprocessing's freeze support) its model process."""

import multiprocessing
import sys

from earmark.engine.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the model process starts this executable again
    sys.exit(main())
