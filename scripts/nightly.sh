# Sourced by scripts/setup.sh, scripts/build-worker.sh and scripts/fuzz.sh: the one nightly Rust
# toolchain Bindify uses, pinned so that every machine builds the same Worker. The Worker's
# release build compiles the standard library with it (build-worker.sh: `-Zbuild-std` and
# `-Cpanic=immediate-abort`, about 33 KB less gzipped), and cargo-fuzz needs it for its sanitizer
# flags. Everything else (the native tests, clippy, the CLI) uses the stable toolchain.
# shellcheck shell=sh
BINDIFY_NIGHTLY=nightly-2026-05-20

# Whether the pinned nightly is installed with the standard library's source.
nightly_ready() {
  sysroot=$(rustup run "$BINDIFY_NIGHTLY" rustc --print sysroot 2>/dev/null) &&
    [ -d "$sysroot/lib/rustlib/src/rust/library/std" ]
}
