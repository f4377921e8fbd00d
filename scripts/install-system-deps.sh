#!/usr/bin/env bash
# The Debian packages the test suite needs — the one list of them: chromium (browser tests of
# report.html; $CRM_CHROMIUM overrides its path) and fonts-noto-cjk (Chinese glyphs in the HTML,
# SVG and PNG outputs) and clickhouse-server + clickhouse-client (Debian's 18.16: the ClickHouse
# tests start their own throwaway server, test/helpers/clickhouse-server.ts; ~10 s of apt-get in CI;
# $CRM_CLICKHOUSE_SERVER and $CRM_CLICKHOUSE_CLIENT override their paths).
# `npm test` runs this first (its pretest, scripts/check-system-deps.mjs).
#
#   scripts/install-system-deps.sh --missing   print the missing packages (nothing when all present)
#   scripts/install-system-deps.sh             install what is missing with apt-get, as root (CI,
#                                              fresh containers); as anyone else, say the one
#                                              command to run and stop: never a password prompt
set -euo pipefail

missing() {
  local need=()
  [ -x "${CRM_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
  # grep reads all of fc-list's output (no -q): under pipefail an early exit would make
  # fc-list die of SIGPIPE and the fonts look missing.
  fc-list : family 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || need+=(fonts-noto-cjk fontconfig)
  [ -x "${CRM_CLICKHOUSE_SERVER:-/usr/sbin/clickhouse-server}" ] || need+=(clickhouse-server)
  [ -x "${CRM_CLICKHOUSE_CLIENT:-/usr/bin/clickhouse-client}" ] || need+=(clickhouse-client)
  echo "${need[*]:-}"
}

need="$(missing)"
if [ "${1:-}" = "--missing" ]; then
  if [ -n "$need" ]; then echo "$need"; fi
  exit 0
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  {
    echo "The test suite needs Debian packages that are not installed: $need"
    echo "Install them once (as root), then run npm test again:"
    echo "  sudo $0"
  } >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The test suite needs: $need — there is no apt-get here; install them with your system's package manager." >&2
  exit 1
fi
echo "installing the Debian packages the tests need: $need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $need >/dev/null
still="$(missing)"
if [ -n "$still" ]; then
  echo "still missing after apt-get install: $still" >&2
  exit 1
fi
echo "installed: $need" >&2
