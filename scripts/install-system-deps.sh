#!/usr/bin/env bash
# Debian packages the test suite needs: chromium (browser tests of report.html) and
# fonts-noto-cjk (Chinese glyphs in the HTML, SVG and PNG outputs). Idempotent; needs root.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk fontconfig)
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages present: chromium, fonts-noto-cjk"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
