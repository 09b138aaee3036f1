#!/bin/sh
# Runs one web test case for ctest under Node.js. Exits 77 (ctest: skipped) with a
# message when what it needs is missing: Node.js 20, the npm packages (npm ci in web/,
# which scripts/test.sh runs) or, for the browser cases, Chromium.
#   run.sh [--browser] FILE.mjs [node --test arguments...]
set -eu
web=$(cd "$(dirname "$0")/.." && pwd)
browser=0
if [ "${1:-}" = "--browser" ]; then browser=1; shift; fi
if ! command -v node >/dev/null 2>&1; then
  echo "SKIP: node (Node.js 20) is not installed: scripts/install-deps.sh --web installs it"
  exit 77
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "SKIP: Node.js $(node --version) is older than 20"
  exit 77
fi
if [ ! -d "$web/node_modules/pbf" ] || { [ "$browser" = 1 ] && [ ! -d "$web/node_modules/playwright-core" ]; }; then
  echo "SKIP: the page's npm packages are not installed: run 'npm ci' in web/ (scripts/test.sh does)"
  exit 77
fi
if [ "$browser" = 1 ] && [ ! -x "${WIFIPROV_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "SKIP: ${WIFIPROV_CHROMIUM:-/usr/bin/chromium} is missing: scripts/install-deps.sh --web installs chromium"
  exit 77
fi
file=$1
shift
cd "$web"
exec node --test --test-reporter=spec "$@" "$file"
