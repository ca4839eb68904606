#!/usr/bin/env bash
# Fuzzes every core parser that reads bytes from outside Bindify (fuzz/fuzz_targets/*.rs) with
# cargo-fuzz (libFuzzer), each for a fixed budget, and prints a table of executions and crashes.
#
#   scripts/fuzz.sh                       # 1,000,000 executions per target
#   scripts/fuzz.sh --runs 10000          # a smoke run: every target builds and runs
#   scripts/fuzz.sh --seconds 300         # five minutes per target
#   scripts/fuzz.sh --runs 5000000 sse jsonrpc
#   scripts/fuzz.sh --runs 10000 --seed 1 # the same inputs every time (what scripts/test.sh runs)
#
# Installs what it needs: the pinned nightly toolchain (scripts/nightly.sh) and cargo-fuzz.
# Each target starts from its seed corpus (fuzz/corpus/<target>, read only) and the corpus it
# grew in earlier runs (fuzz/work/<target>, not committed), with its dictionary
# (fuzz/dict/<target>.dict) when there is one. A crash leaves its input in
# fuzz/artifacts/<target>/; reproduce it with
# `cargo +nightly-2026-05-20 fuzz run -O <target> fuzz/artifacts/<target>/<file>` (the toolchain
# scripts/nightly.sh pins).
# Exits non-zero when any target crashed. Run it under `nice` to keep a shared machine usable.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=1000000
seconds=
seed=
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; seconds=; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

. scripts/nightly.sh
if ! rustup run "$BINDIFY_NIGHTLY" rustc --version >/dev/null 2>&1; then
  step "Installing the Rust toolchain $BINDIFY_NIGHTLY (minimal profile), which cargo-fuzz needs"
  rustup toolchain install "$BINDIFY_NIGHTLY" --profile minimal --component rust-src --target wasm32-unknown-unknown
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  step "Installing cargo-fuzz (about a minute, once)"
  cargo install cargo-fuzz --locked
fi

if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +"$BINDIFY_NIGHTLY" fuzz list)
fi

step "Building the fuzz targets (libFuzzer, address sanitizer, debug assertions and overflow checks)"
# -O builds with fuzz/Cargo.toml's release profile, which turns the assertions and overflow
# checks on for every crate but one (see there); cargo-fuzz's default would force them on all.
cargo +"$BINDIFY_NIGHTLY" fuzz build -O

if [ -n "$seconds" ]; then
  budget=(-max_total_time="$seconds")
  label="$seconds seconds per target"
else
  budget=(-runs="$runs")
  label="$runs executions per target"
fi

logs=fuzz/target/logs
mkdir -p "$logs"
rows=()
failed=0
for target in "${targets[@]}"; do
  step "Fuzzing $target ($label)"
  mkdir -p "fuzz/work/$target" "fuzz/artifacts/$target"
  corpora=("fuzz/work/$target")
  [ -d "fuzz/corpus/$target" ] && corpora+=("fuzz/corpus/$target")
  options=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 "${budget[@]}")
  [ -f "fuzz/dict/$target.dict" ] && options+=(-dict="fuzz/dict/$target.dict")
  [ -n "$seed" ] && options+=(-seed="$seed")
  before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  start=$(date +%s)
  status=0
  cargo +"$BINDIFY_NIGHTLY" fuzz run -O "$target" "${corpora[@]}" -- "${options[@]}" >"$logs/$target.log" 2>&1 || status=$?
  elapsed=$(( $(date +%s) - start ))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$target.log" | tail -n 1)
  after=$(find "fuzz/artifacts/$target" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    failed=1
    artifact=$(ls -t "fuzz/artifacts/$target" 2>/dev/null | head -n 1)
    if [ "$after" -gt "$before" ] && [ -n "$artifact" ]; then
      result="CRASH fuzz/artifacts/$target/$artifact"
    else
      result="FAILED (exit $status, see $logs/$target.log)"
    fi
    tail -n 30 "$logs/$target.log" >&2
  fi
  rows+=("$(printf '%-18s %14s %8ss  %s' "$target" "${executions:-?}" "$elapsed" "$result")")
done

printf '\n%-18s %14s %9s  %s\n' target executions time result
for row in "${rows[@]}"; do
  printf '%s\n' "$row"
done
exit "$failed"
