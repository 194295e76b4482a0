#!/usr/bin/env bash
# Set up what the tests need (see setup.sh --test), then lint and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
.venv/bin/ruff check app tests bench scripts
QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest "$@"
