#!/usr/bin/env bash
# The front-end packages, pinned by their lock files and installed with
# `npm ci`: the dashboard's graph libraries (server/dashboard) and, with
# --browser, the browser test's playwright-core (tests/dashboard) and
# Debian's chromium. Installs nodejs and npm with apt-get when missing.
# Idempotent: a directory whose lock did not change since its last install
# is left alone.
#   bash scripts/npm-deps.sh [--browser]
set -euo pipefail
cd "$(dirname "$0")/.."
browser=0
[ "${1:-}" = --browser ] && browser=1
missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
[ "$browser" = 1 ] && ! [ -x /usr/bin/chromium ] && missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "npm-deps: installing ${missing[*]} with apt-get" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
dirs=(server/dashboard)
[ "$browser" = 1 ] && dirs+=(tests/dashboard)
for dir in "${dirs[@]}"; do
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -d "$dir/node_modules" ] && [ "$(cat "$dir/node_modules/.lock-sha256" 2>/dev/null)" = "$sum" ]; then
    continue
  fi
  echo "npm-deps: npm ci in $dir" >&2
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts >&2)
  echo "$sum" > "$dir/node_modules/.lock-sha256"
done
