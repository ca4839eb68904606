#!/bin/sh
# Builds the Worker (build/index.js + build/index_bg.wasm) with worker-build, using the tools
# that scripts/setup.sh installed, so nothing is downloaded from outside a package registry.
set -eu
cd "$(dirname "$0")/.."

if [ -z "${WASM_BINDGEN_BIN:-}" ]; then
  WASM_BINDGEN_BIN=$(command -v wasm-bindgen || true)
fi
if [ -z "$WASM_BINDGEN_BIN" ]; then
  echo "wasm-bindgen is not installed: run scripts/setup.sh" >&2
  exit 1
fi
export WASM_BINDGEN_BIN
if [ -z "${ESBUILD_BIN:-}" ] && [ -x tests/node_modules/@esbuild/linux-x64/bin/esbuild ]; then
  export ESBUILD_BIN="$PWD/tests/node_modules/@esbuild/linux-x64/bin/esbuild"
fi
if [ -z "${WASM_OPT_BIN:-}" ] && [ -x tests/node_modules/binaryen/bin/wasm-opt ]; then
  export WASM_OPT_BIN="$PWD/tests/node_modules/binaryen/bin/wasm-opt"
fi
if [ -n "${WASM_OPT_BIN:-}" ]; then
  exec worker-build --release
else
  exec worker-build --release --no-opt
fi
