#!/bin/sh
# Builds the Rust floor (see Cargo.toml) into bench/floor/build/ the way scripts/build-worker.sh
# builds Bindify: worker-build, the same toolchain settings, then wasm-opt with the same flags.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
. "$root/scripts/nightly.sh"
use_nightly_std || true
export CARGO_TARGET_DIR="$root/target/bench-floor"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen)}"
export ESBUILD_BIN="${ESBUILD_BIN:-$root/tests/node_modules/@esbuild/linux-x64/bin/esbuild}"
worker-build --release
"$root/tests/node_modules/binaryen/bin/wasm-opt" build/index_bg.wasm -o build/index_bg.wasm.opt $(sh "$root/scripts/build-worker.sh" --print-wasm-opt-flags)
mv build/index_bg.wasm.opt build/index_bg.wasm
