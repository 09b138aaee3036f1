#!/usr/bin/env bash
# Builds the provisioning page web/dist/index.html (and web/THIRD-PARTY) from web/src.
# Needs Node.js and npm; installs the pinned packages of web/package-lock.json first.
# The built page is committed: building or installing the daemon needs no Node.js.
#   scripts/build-web.sh           build
#   scripts/build-web.sh --check   fail if the committed page is not what the sources build
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "build-web: Node.js and npm are needed (scripts/install-deps.sh --web installs them)" >&2
  exit 2
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec node build.mjs "$@"
