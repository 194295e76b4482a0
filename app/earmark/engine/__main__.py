"""`python -m earmark.engine`: the same as `earmark-engine`."""

import sys

from .cli import main

sys.exit(main())
