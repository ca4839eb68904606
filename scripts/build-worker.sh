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

# wasm-opt's flags, chosen for the gzipped size Cloudflare counts:
#   -Oz            optimize for size;
#   -ocimfs 20     inline a function with one caller only when it is small: binaryen's default
#                  inlines every such function, which makes fewer bytes that gzip worse (the
#                  async handlers are inlined into one another);
#   no --debuginfo the names section (Rust function names, about 80 KB gzipped) is left out, so
#                  a trap's stack trace shows function indexes instead of names;
#   --enable-...   the features worker-build enables (what rustc's wasm32 target emits, and the
#                  exception handling of wasm-bindgen's catch wrappers), no newer encodings.
# bench/README.md records the size each of these saves.
WASM_OPT_FLAGS="-Oz -ocimfs 20 --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory --enable-multivalue --enable-reference-types --enable-exception-handling"

force=0
case "${1:-}" in
--force) force=1 ;;
--print-wasm-opt-flags)
  # For bench/ (its size analysis optimizes the unoptimized module again, with names).
  echo "$WASM_OPT_FLAGS"
  exit 0
  ;;
esac

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

# The standard library compiled with the Worker, on the pinned nightly (scripts/nightly.sh):
#   -Zbuild-std               std, alloc and core optimized for size with the rest (lto, -Oz)
#                             instead of the precompiled ones;
#   -Cpanic=immediate-abort   a panic traps at once, without formatting its message: the
#                             machinery that formats panic messages and their locations is left
#                             out. Nothing in Bindify panics on purpose (clippy denies unwrap and
#                             the like on every request path); a panic that happens anyway
#                             aborts the isolate as `panic = "abort"` already did, and its log
#                             line says "unreachable" instead of the message.
# About 33 KB less gzipped (bench/README.md). Without that toolchain (scripts/setup.sh installs
# it) the Worker builds on stable with the precompiled standard library, and says so.
. scripts/nightly.sh
if ! use_nightly_std; then
  echo "note: $BINDIFY_NIGHTLY with rust-src is not installed (scripts/setup.sh installs it): building on the default toolchain with its precompiled standard library, about 33 KB larger gzipped" >&2
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
    find src core Cargo.toml Cargo.lock scripts/build-worker.sh scripts/nightly.sh -type f ! -path '*/target/*' -print0 |
      LC_ALL=C sort -z | xargs -0 $hasher
    worker-build --version
    "$WASM_BINDGEN_BIN" --version
    rustc --version
    cargo --version
    echo "wasm-opt=${WASM_OPT_BIN:+yes} rustflags=${RUSTFLAGS:-} build-std=${CARGO_UNSTABLE_BUILD_STD:-}"
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
# worker-build builds and binds without optimizing (Cargo.toml turns its wasm-opt run off);
# wasm-opt runs here with WASM_OPT_FLAGS. The unoptimized module, which still has its names,
# stays in target/ for the size analysis of bench/ (twiggy).
worker-build --release
if [ -n "${WASM_OPT_BIN:-}" ]; then
  cp build/index_bg.wasm "${CARGO_TARGET_DIR:-target}/bindify-worker.unoptimized.wasm"
  # shellcheck disable=SC2086
  "$WASM_OPT_BIN" build/index_bg.wasm -o build/index_bg.wasm.opt $WASM_OPT_FLAGS
  mv build/index_bg.wasm.opt build/index_bg.wasm
else
  echo "wasm-opt is not installed (scripts/setup.sh installs it): build/index_bg.wasm is not optimized" >&2
fi
[ -z "$digest" ] || echo "$digest" >"$stamp"
