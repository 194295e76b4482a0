#!/usr/bin/env bash
# Put Earmark in the desktop's applications menu (per user, no root): the .desktop launcher
# from resources/, pointing at this checkout's .venv, and the icon.
#   packaging/linux/install-desktop-entry.sh            install (runs .venv/bin/earmark)
#   packaging/linux/install-desktop-entry.sh --bundle   install (runs dist/earmark/earmark)
#   packaging/linux/install-desktop-entry.sh --remove   remove
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
apps="$data/applications"
icons="$data/icons/hicolor/scalable/apps"
if [[ "${1:-}" == "--remove" ]]; then
  rm -f "$apps/earmark.desktop" "$icons/earmark.svg"
  echo "Earmark removed from the applications menu"
  exit 0
fi
launcher="$repo/.venv/bin/earmark"; missing="Run scripts/setup.sh first"
if [[ "${1:-}" == "--bundle" ]]; then
  launcher="$repo/dist/earmark/earmark"; missing="Run packaging/build-bundle.sh first"
fi
[[ -x "$launcher" ]] || { echo "$missing: $launcher is missing" >&2; exit 1; }
mkdir -p "$apps" "$icons"
install -m 644 "$repo/resources/icons/earmark.svg" "$icons/earmark.svg"
sed "s|^Exec=earmark |Exec=\"$launcher\" |" "$repo/resources/earmark.desktop" > "$apps/earmark.desktop"
chmod 644 "$apps/earmark.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "Earmark is in the applications menu ($apps/earmark.desktop)"
