#!/bin/sh
# Builds the Worker (build/index.js + build/index_bg.wasm) with worker-build, using the tools
# that scripts/setup.sh installed, so nothing is downloaded from outside a package registry.
#
# Skips the build when build/ already holds the output of the same inputs: the contents of
# src/, core/, the Cargo manifests and lock and this script, the tools' versions and the build
# variables (build/.inputs.sha256 records them). `wrangler deploy` and `wrangler dev` run this
# script first, so right after a build they start at once instead of spending half a minute
# in wasm-opt. `--force` builds anyway.
set -eu
cd "$(dirname "$0")/.."

force=0
[ "${1:-}" = "--force" ] && force=1

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

if command -v sha256sum >/dev/null 2>&1; then
  hasher=sha256sum
elif command -v shasum >/dev/null 2>&1; then
  hasher="shasum -a 256"
else
  hasher= # nothing to compare with: always build
fi

# One line naming everything the build reads: each input file's path and hash, the tools'
# versions and the variables that change the output. ($hasher is a command with its arguments.)
# shellcheck disable=SC2086
inputs_digest() {
  {
    find src core Cargo.toml Cargo.lock scripts/build-worker.sh -type f ! -path '*/target/*' -print0 |
      LC_ALL=C sort -z | xargs -0 $hasher
    worker-build --version
    "$WASM_BINDGEN_BIN" --version
    rustc --version
    cargo --version
    echo "wasm-opt=${WASM_OPT_BIN:+yes} rustflags=${RUSTFLAGS:-}"
  } | $hasher
}

stamp=build/.inputs.sha256
digest=
[ -n "$hasher" ] && digest=$(inputs_digest)
if [ "$force" = 0 ] && [ -n "$digest" ] && [ -f build/index.js ] && [ -f build/index_bg.wasm ] &&
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  echo "build/ is current (same sources, tools and settings): not rebuilding; --force rebuilds." >&2
  exit 0
fi

rm -f "$stamp"
if [ -n "${WASM_OPT_BIN:-}" ]; then
  worker-build --release
else
  worker-build --release --no-opt
fi
[ -z "$digest" ] || echo "$digest" >"$stamp"
