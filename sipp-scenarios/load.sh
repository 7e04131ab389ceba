#!/usr/bin/env bash
# SIPp load run: calls to 12345 at increasing rates against a release build of the server on
# loopback, each call talking (RTP both ways) for 3 s. For each rate it prints the calls
# placed, successful and failed, the achieved calls per second, the most calls up at once,
# INVITE→100 and INVITE→200 at the 50th and 99th percentile (from SIPp's per-call response
# times, -trace_rtt), the server's CPU time and resident memory after the rate, and whether
# every successful call has its case in the database (checked through the HTTP API:
# calls_without_case). CHECK_CASES=0 skips that check (it takes a request per call).
# HOLD_MS holds each call longer (a capacity run: many calls up at once). A soak is one
# long rate: RATES=100 SECONDS_PER_RATE=600 CHECK_CASES=0 (memory at its start and end).
# STAFFED=1 runs a copy of the dialplan staffed around the clock, so that callers take the
# daytime path (greeting, then the queue with hold music) whatever the hour; by default the
# bundled hours decide (outside them: the after-hours greeting and voicemail).
# PROBE=1 sends the server's RTP to examples/rtp_probe.rs instead of SIPp: it takes each
# packet's arrival time from the kernel, echoes the packet back (so the server still receives
# media), and the script adds per rate the packets the probe received (rtp_rx), those lost and
# those late (more than 5 ms off the 20 ms grid), with the p99 and maximum lateness.
# MEDIA=0 makes SIPp's callers send no RTP (they still receive the greeting): a call-rate run
# where SIPp's RTP threads would otherwise take most of the two cores.
# KEEP=1 keeps the run's folder (SIPp's output, the server log) and prints where it is.
# HOTLINE_BIN runs another build (an older commit's, to compare); SERVER_ARGS adds options
# (a capacity run above 2,000 calls needs --max-calls).
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
CHECK_CASES=${CHECK_CASES:-1}
HOLD_MS=${HOLD_MS:-3000}
command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 1; }

cargo build --release --quiet
bin=${HOTLINE_BIN:-./target/release/hotline12345}
work=$(mktemp -d)
sed -e "s/<pause milliseconds=\"3000\"\/>/<pause milliseconds=\"$HOLD_MS\"\/>/" \
    -e "s#sipp-scenarios/audio/caller-pcmu.wav,1,0#$PWD/sipp-scenarios/audio/caller-pcmu.wav,-1,0#" \
    sipp-scenarios/caller.xml >"$work/caller.xml"
probe_port=29998
if [ "${PROBE:-0}" = 1 ]; then
  cargo build --release --quiet --example rtp_probe
  sed -i -e "s/m=audio \[media_port\]/m=audio $probe_port/" -e '/<nop>/,/<\/nop>/d' "$work/caller.xml"
fi
if [ "${MEDIA:-1}" = 0 ]; then
  # Signalling only from SIPp's side: its callers send no RTP (the server still plays the
  # greeting to them), so that SIPp's own RTP threads do not take the cores a call-rate run
  # measures.
  sed -i -e '/<nop>/,/<\/nop>/d' "$work/caller.xml"
fi
dialplan_args=()
if [ "${STAFFED:-0}" = 1 ]; then
  cp -r dialplan "$work/dialplan"
  sed -i 's/^default_hours = .*/default_hours = ["00:00-24:00"]/' "$work/dialplan/hotline.toml"
  dialplan_args=(--dialplan "$work/dialplan")
fi
db_args=()
[ -n "${DATABASE_URL:-}" ] && db_args=(--database-url "$DATABASE_URL")
"$bin" serve --data "$work/data" "${dialplan_args[@]}" "${db_args[@]}" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports 30000-39999 ${SERVER_ARGS:-} \
  >"$work/stdout" 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
probe=
if [ "${PROBE:-0}" = 1 ]; then
  probe_secs=$(( $(wc -w <<<"$RATES") * (SECONDS_PER_RATE + HOLD_MS / 1000 + 60) + 60 ))
  ./target/release/examples/rtp_probe --listen "127.0.0.1:$probe_port" --seconds "$probe_secs" >"$work/probe.out" &
  probe=$!
  trap 'kill $server $probe 2>/dev/null; wait $server 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
fi
for _ in $(seq 1 100); do grep -q "ready:" "$work/stdout" && break; sleep 0.1; done
ready=$(grep "ready:" "$work/stdout")
sip=$(sed -E 's/.*sip=([^ ]+).*/\1/' <<<"$ready")
http=$(sed -E 's/.*http=([^ ]+).*/\1/' <<<"$ready")
echo "server: sip=$sip http=$http db=${DATABASE_URL:-sqlite}"
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${1:-$server}/stat"; }
# pct FILE RTD P: the P-th percentile (ms) of the response times of rtd RTD in SIPp's rtt file.
pct() { awk -F';' -v rtd="$2" '$3 == rtd { print $2 }' "$1" | sort -n \
  | awk -v p="$3" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int((NR - 1) * p / 100) + 1; printf "%.2f", v[i] }'; }
printf '%-6s %-7s %-10s %-7s %-9s %-8s %-15s %-15s %-7s %-16s %s\n' rate calls successful failed calls/s max_up "100 p50/p99 ms" "200 p50/p99 ms" cpu_s "rss_MB start/end" "calls_without_case${probe:+ | probe: the server RTP as received}"
run=0
for rate in $RATES; do
  run=$((run + 1))
  calls=$((rate * SECONDS_PER_RATE))
  inf="$work/callers-$rate.csv"
  { echo SEQUENTIAL; for i in $(seq 1 "$calls"); do printf '0871%d%07d;\n' "$run" "$i"; done; } >"$inf"
  start=$(date +%s.%N)
  ticks0=$(cpu_ticks)
  [ -n "$probe" ] && probe0=$(cpu_ticks "$probe")
  rss0=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status")
  set +e
  ( cd "$work" && sipp -sf "$work/caller.xml" -inf "$inf" -s 12345 -i 127.0.0.1 -mi 127.0.0.1 \
    -p 0 -mp $((40000 + run * 2000)) -m "$calls" -r "$rate" -l $((rate * (10 + HOLD_MS / 1000))) \
    -nostdin -timeout $((600 + HOLD_MS / 1000))s -timeout_error -trace_stat -stf "$work/stat-$rate.csv" -fd 1 \
    -trace_rtt -rtt_freq 1 \
    "$sip" >"$work/sipp-$rate.out" 2>&1 )
  set -e
  end=$(date +%s.%N)
  ticks1=$(cpu_ticks)
  [ -n "$probe" ] && probe1=$(cpu_ticks "$probe")
  rtt=$(ls -t "$work"/caller_*_rtt.csv 2>/dev/null | head -n 1 || true)
  [ -n "$rtt" ] || { echo "SIPp wrote no response times:"; tail -n 20 "$work/sipp-$rate.out"; exit 1; }
  last=$(tail -n 1 "$work/stat-$rate.csv")
  header=$(head -n 1 "$work/stat-$rate.csv")
  col() { awk -F';' -v name="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i} NR==2{print $c}' <(printf '%s\n%s\n' "$header" "$last"); }
  ok=$(col "SuccessfulCall(C)")
  failed=$(col "FailedCall(C)")
  max_up=$(awk -F';' -v name="CurrentCall" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i; next} $c+0 > m {m = $c+0} END {print m+0}' "$work/stat-$rate.csv")
  trying="$(pct "$rtt" 1 50)/$(pct "$rtt" 1 99)"
  answered="$(pct "$rtt" 2 50)/$(pct "$rtt" 2 99)"
  rm -f "$rtt"
  cpu=$(echo "scale=2; ($ticks1 - $ticks0) / $hz" | bc)
  rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$server/status")
  elapsed=$(echo "$end - $start" | bc)
  cps=$(echo "scale=1; $ok / $elapsed" | bc)
  # Every successful call's caller has a case.
  missing=-
  [ "$CHECK_CASES" = 1 ] && missing=0 && for i in $(seq 1 "$calls"); do
    num=$(printf '0871%d%07d' "$run" "$i")
    n=$(curl -s -H "Authorization: Bearer ${TOKEN:-dev-sup-province}" "http://$http/api/cases?caller=$num" | grep -o '"case_number"' | wc -l)
    [ "$n" -ge 1 ] || missing=$((missing + 1))
  done
  media=
  if [ -n "$probe" ]; then
    # The probe sums a stream up once it has been quiet for 1 s; then it reports on SIGUSR1.
    sleep 1.5
    lines=$(grep -c "streams=" "$work/probe.out" || true)
    kill -USR1 "$probe"
    for _ in $(seq 1 50); do [ "$(grep -c "streams=" "$work/probe.out" || true)" -gt "$lines" ] && break; sleep 0.1; done
    media=" | $(grep "streams=" "$work/probe.out" | tail -n 1 | sed -E 's/streams=[0-9]+ packets=/rtp_rx=/') probe_cpu_s=$(echo "scale=2; ($probe1 - $probe0) / $hz" | bc)"
  fi
  printf '%-6s %-7s %-10s %-7s %-9s %-8s %-15s %-15s %-7s %-16s %s\n' "$rate" "$calls" "$ok" "$failed" "$cps" "$max_up" "$trying" "$answered" "$cpu" "$rss0/$rss" "$missing$media"
done
