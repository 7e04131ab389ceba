#!/usr/bin/env bash
# SIPp load run: calls to 12345 at increasing rates against a release build of the server on
# loopback, each call talking (RTP both ways) for 3 s. For each rate it prints the calls
# placed, successful and failed, the achieved calls per second, and whether every successful
# call has its case in the database (checked through the HTTP API: calls_without_case).
#
#   sipp-scenarios/load.sh                      # SQLite in a temp folder, rates 10 25 50 100
#   RATES="20 50" SECONDS_PER_RATE=30 sipp-scenarios/load.sh
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench sipp-scenarios/load.sh
#
# Bounded: each rate runs at most SECONDS_PER_RATE seconds of new calls; SIPp stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"10 25 50 100"}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-20}
command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 1; }

cargo build --release --quiet
work=$(mktemp -d)
db_args=()
[ -n "${DATABASE_URL:-}" ] && db_args=(--database-url "$DATABASE_URL")
./target/release/hotline12345 serve --data "$work/data" "${db_args[@]}" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports 30000-39999 \
  >"$work/stdout" 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "ready:" "$work/stdout" && break; sleep 0.1; done
ready=$(grep "ready:" "$work/stdout")
sip=$(sed -E 's/.*sip=([^ ]+).*/\1/' <<<"$ready")
http=$(sed -E 's/.*http=([^ ]+).*/\1/' <<<"$ready")
echo "server: sip=$sip http=$http db=${DATABASE_URL:-sqlite}"
printf '%-6s %-7s %-10s %-7s %-10s %-9s %s\n' rate calls successful failed elapsed_s calls/s calls_without_case
run=0
for rate in $RATES; do
  run=$((run + 1))
  calls=$((rate * SECONDS_PER_RATE))
  inf="$work/callers-$rate.csv"
  { echo SEQUENTIAL; for i in $(seq 1 "$calls"); do printf '0871%d%07d;\n' "$run" "$i"; done; } >"$inf"
  start=$(date +%s.%N)
  set +e
  sipp -sf sipp-scenarios/caller.xml -inf "$inf" -s 12345 -i 127.0.0.1 -mi 127.0.0.1 \
    -p 0 -mp $((40000 + run * 2000)) -m "$calls" -r "$rate" -l $((rate * 10)) \
    -nostdin -timeout 600s -timeout_error -trace_stat -stf "$work/stat-$rate.csv" -fd 1 \
    "$sip" >"$work/sipp-$rate.out" 2>&1
  set -e
  end=$(date +%s.%N)
  last=$(tail -n 1 "$work/stat-$rate.csv")
  header=$(head -n 1 "$work/stat-$rate.csv")
  col() { awk -F';' -v name="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i} NR==2{print $c}' <(printf '%s\n%s\n' "$header" "$last"); }
  ok=$(col "SuccessfulCall(C)")
  failed=$(col "FailedCall(C)")
  elapsed=$(echo "$end - $start" | bc)
  cps=$(echo "scale=1; $ok / $elapsed" | bc)
  # Every successful call's caller has a case.
  missing=0
  for i in $(seq 1 "$calls"); do
    num=$(printf '0871%d%07d' "$run" "$i")
    n=$(curl -s -H "Authorization: Bearer ${TOKEN:-dev-sup-province}" "http://$http/api/cases?caller=$num" | grep -o '"case_number"' | wc -l)
    [ "$n" -ge 1 ] || missing=$((missing + 1))
  done
  printf '%-6s %-7s %-10s %-7s %-10s %-9s %s\n' "$rate" "$calls" "$ok" "$failed" "$elapsed" "$cps" "$missing"
done
