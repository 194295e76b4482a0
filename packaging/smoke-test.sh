#!/usr/bin/env bash
# Smoke-test the built bundle (see packaging/smoke_test.py):
#   packaging/smoke-test.sh [--build] [smoke_test.py options, e.g. --skip-engine]
# --build builds dist/earmark/ first (packaging/build-bundle.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
if [[ "${1:-}" == "--build" ]]; then
  shift
  "$repo/packaging/build-bundle.sh"
fi
exec "$python" "$repo/packaging/smoke_test.py" "$@"
