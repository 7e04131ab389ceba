#!/usr/bin/env bash
# Instructions per packet on the media path, counted by callgrind (stable on a noisy machine):
# each path of benches/packet.rs runs N and 2N times, and the difference over N is the count
# for one packet (set-up and start-up cancel out). Usage: benches/callgrind.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
bin=$(cargo bench --bench packet --no-run --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*packet-[^"]*"' | tail -n1 | cut -d'"' -f4)
[ -x "$bin" ] || { echo "bench binary not built"; exit 1; }
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-16s %s\n' path instructions/packet
for path in relay-alloc relay-pass relay-transcode play-alloc play; do
  one=$(count "$path" "$n")
  two=$(count "$path" $((2 * n)))
  printf '%-16s %s\n' "$path" $(( (two - one) / n ))
done
