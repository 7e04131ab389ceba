#!/usr/bin/env bash
# Runs every fuzz target for a bounded time and prints, per target, the inputs executed, the
# coverage reached and the corpus size; exits non-zero when any target found a crash (its
# input is kept in fuzz/artifacts/<target>/, to become a regression test in `cargo test`).
#
#   fuzz/run.sh 60          # a minute in all (what CI runs)
#   fuzz/run.sh 3600        # an hour in all, for the figures in BENCHMARKS.md
#
# The corpus grows in fuzz/corpus/<target>/ (seeds are committed). Built with the machine's
# stable toolchain through RUSTC_BOOTSTRAP (cargo fuzz needs nightly flags) and without a
# sanitizer: Rust is memory-safe here, panics are what is looked for.
set -euo pipefail
cd "$(dirname "$0")/.."
total="${1:-60}"
targets=(sip_message sip_transactions sdp rtp digest exchange mail smpp)
each=$(( total / ${#targets[@]} ))
(( each >= 1 )) || each=1
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2; exit 2; }
cargo fuzz build --sanitizer none -O >/dev/null 2>&1
printf '%-18s %12s %10s %8s %8s\n' target executions exec/s cov corpus
failed=0
sum=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  log=$(mktemp)
  if ! cargo fuzz run --sanitizer none -O "$t" "fuzz/corpus/$t" -- \
      -max_total_time="$each" -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" \
      -max_len=8192 >"$log" 2>&1; then
    failed=1
    echo "== $t FOUND A CRASH:" >&2
    grep -E "panicked|ERROR|Test unit written" "$log" | head -20 >&2 || tail -30 "$log" >&2
  fi
  execs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | grep -oE '[0-9]+$' || echo 0)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
  corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
  printf '%-18s %12s %10s %8s %8s\n' "$t" "$execs" "$rate" "$cov" "$corpus"
  sum=$(( sum + execs ))
  rm -f "$log"
done
echo "all targets: $sum inputs in about ${total} s"
exit "$failed"
