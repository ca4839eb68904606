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

# Builds that follow set the standard library to be compiled with the crate on the pinned
# nightly, when it is ready (see scripts/build-worker.sh for what each flag does). Fails, and
# changes nothing, when it is not.
use_nightly_std() {
  nightly_ready || return 1
  export RUSTUP_TOOLCHAIN="$BINDIFY_NIGHTLY"
  export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
  export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }-Zunstable-options -Cpanic=immediate-abort"
}
