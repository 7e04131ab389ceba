#!/usr/bin/env bash
# SIPp load run with operators: SEATS seats (default 20: 1101-1120 of dialplan/agents.toml;
# more are added as 51121… to this run's copy of the dialplan, never to the bundled one, clear of
# every bundled seat's id) register with
# digest authentication and answer with a SIPp UAS that echoes RTP; callers dial 12345 at
# increasing rates, wait in the Kunming queue, are bridged to a seat and talk for 3 s (RTP both
# ways through the server). For each rate it prints calls, successful and failed callers,
# calls/s, calls connected to a seat, and the most calls bridged at once (sampled each 0.5 s
# from GET /api/queues). Bounded: each rate places RATE x SECONDS_PER_RATE calls; every SIPp
# stops by itself; everything runs on loopback. Last, the server's peak resident memory.
# Callers talk TALK_MS (default 8000: the greeting, at most 4 s, plays out before the bridge).
# Per rate it also prints the server's CPU time and the packets on loopback (every RTP packet
# there is one the server received or sent: SIPp talks only to it), and their quotient:
# server CPU per packet in or out (a relayed packet is one in and one out).
# HOTLINE_BIN runs another build (an older commit's, to compare). KEEP=1 keeps the run's
# folder (SIPp's output, the server log) and prints where it is.
#
#   sipp-scenarios/load-agents.sh
#   RATES="2 4" SECONDS_PER_RATE=10 sipp-scenarios/load-agents.sh
#   SEATS=60 RATES="5 10 15" sipp-scenarios/load-agents.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RATES=${RATES:-"2 4 6"}
SECONDS_PER_RATE=${SECONDS_PER_RATE:-20}
SEATS=${SEATS:-20}
TALK_MS=${TALK_MS:-8000}
TOKEN=${TOKEN:-dev-sup-kunming}
command -v sipp >/dev/null || { echo "sipp not installed (apt-get install sip-tester)"; exit 1; }

cargo build --release --quiet
bin=${HOTLINE_BIN:-./target/release/hotline12345}
work=$(mktemp -d)
# The callers' scenario, talking TALK_MS with their sentence looped.
sed -e "s/<pause milliseconds=\"3000\"\/>/<pause milliseconds=\"$TALK_MS\"\/>/" \
    -e "s#sipp-scenarios/audio/caller-pcmu.wav,1,0#$PWD/sipp-scenarios/audio/caller-pcmu.wav,-1,0#" \
    sipp-scenarios/caller.xml >"$work/caller.xml"
# The bundled dialplan with every platform staffed around the clock, no wrap-up, 5 s ring.
cp -r dialplan "$work/dialplan"
sed -i 's/^default_hours = .*/default_hours = ["00:00-24:00"]/; s/^wrap_up_secs = .*/wrap_up_secs = 0/; s/^ring_timeout_secs = .*/ring_timeout_secs = 5/' "$work/dialplan/hotline.toml"
# The seats: the bundled 1101-1120, then 51121… (ids no bundled seat has).
seats=$(seq 1101 $((1100 + (SEATS < 20 ? SEATS : 20))); [ "$SEATS" -gt 20 ] && seq 51121 $((51100 + SEATS)))
for i in $(grep -E '^5' <<<"$seats"); do
  printf '\n[[agent]]\nid = "%s"\nplatform = "530100"\npassword = "dev-%s"\nskills = { mandarin = 10 }\ndigest = "md5"\n' \
    "$i" "$i" >>"$work/dialplan/agents.toml"
done
"$bin" serve --data "$work/data" --dialplan "$work/dialplan" \
  --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports 30000-39999 \
  >"$work/stdout" 2>"$work/server.log" &
server=$!
# The softphones: SIPp UASes that answer and echo RTP, one per 250 seats; -l lifts SIPp's
# own cap on open calls. Their -timeout counts the seats' registration too (one at a time,
# about 0.15 s each): with 1,000 seats it used to expire as the calls began, and the UASes
# stopped answering after the first second's INVITEs (seen in a capture of their port).
uas_first=$((15060 + RANDOM % 1000))
uas_count=$(( (SEATS + 249) / 250 ))
uas=()
for k in $(seq 0 $((uas_count - 1))); do
  sipp -sn uas -rtp_echo -i 127.0.0.1 -mi 127.0.0.1 -p $((uas_first + k)) -mp $((50000 + k * 10)) -l $((SEATS * 2 + 100)) -nostdin \
    -timeout $(( ( $(wc -w <<<"$RATES") * (SECONDS_PER_RATE + 30 + TALK_MS / 1000) ) + 60 + SEATS / 4 ))s >"$work/uas-$k.out" 2>&1 &
  uas+=($!)
done
trap 'kill $server "${uas[@]}" 2>/dev/null; wait $server "${uas[@]}" 2>/dev/null; [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "ready:" "$work/stdout" && break; sleep 0.1; done
ready=$(grep "ready:" "$work/stdout")
sip=$(sed -E 's/.*sip=([^ ]+).*/\1/' <<<"$ready")
http=$(sed -E 's/.*http=([^ ]+).*/\1/' <<<"$ready")
api() { curl -s -H "Authorization: Bearer $TOKEN" "http://$http$1"; }

for k in $(seq 0 $((uas_count - 1))); do printf 'SEQUENTIAL\n%s;\n' $((uas_first + k)) >"$work/port-$k.csv"; done
n=0
for i in $seats; do
  k=$((n % uas_count)); n=$((n + 1))
  sipp -sf sipp-scenarios/agent-register.xml -s "$i" -ap "dev-$i" -inf "$work/port-$k.csv" \
    -i 127.0.0.1 -p 0 -m 1 -nostdin -timeout 10s "$sip" >/dev/null 2>&1 || { echo "seat $i did not register"; exit 1; }
done
registered=$(api "/api/agents?platform=530100" | grep -o '"registered":true' | wc -l)
echo "server: sip=$sip http=$http; seats registered: $registered; softphones: $uas_count SIPp UAS from port $uas_first"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
lo_packets() { echo $(( $(cat /sys/class/net/lo/statistics/rx_packets) )); }
hz=$(getconf CLK_TCK)
printf '%-6s %-7s %-10s %-7s %-9s %-10s %-12s %-8s %-11s %s\n' rate calls successful failed calls/s connected max_bridged cpu_s lo_packets us/packet
run=0
for rate in $RATES; do
  run=$((run + 1))
  calls=$((rate * SECONDS_PER_RATE))
  inf="$work/callers-$rate.csv"
  { echo SEQUENTIAL; for i in $(seq 1 "$calls"); do printf '0871%d%07d;\n' "$run" "$i"; done; } >"$inf"
  before=$(api "/api/queues" | grep -o '"calls_taken":[0-9]*' | cut -d: -f2 | paste -sd+ | bc)
  max=0
  ( set +e +o pipefail
    while true; do
      n=$(api "/api/queues" | grep -o '"state":"on-call"' | wc -l)
      echo "$n"
      sleep 0.5
    done >"$work/bridged-$rate.txt" ) &
  sampler=$!
  start=$(date +%s.%N)
  ticks0=$(cpu_ticks); packets0=$(lo_packets)
  set +e
  sipp -sf "$work/caller.xml" -inf "$inf" -s 12345 -i 127.0.0.1 -mi 127.0.0.1 \
    -p 0 -mp $((40000 + run * 2000)) -m "$calls" -r "$rate" -l $((rate * 20)) \
    -nostdin -timeout $((300 + TALK_MS / 1000))s -timeout_error -trace_stat -stf "$work/stat-$rate.csv" -fd 1 \
    "$sip" >"$work/sipp-$rate.out" 2>&1
  set -e
  end=$(date +%s.%N)
  ticks1=$(cpu_ticks); packets1=$(lo_packets)
  sleep 1
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  max=$(sort -n "$work/bridged-$rate.txt" | tail -n 1)
  last=$(tail -n 1 "$work/stat-$rate.csv"); header=$(head -n 1 "$work/stat-$rate.csv")
  col() { awk -F';' -v name="$1" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i} NR==2{print $c}' <(printf '%s\n%s\n' "$header" "$last"); }
  ok=$(col "SuccessfulCall(C)"); failed=$(col "FailedCall(C)")
  after=$(api "/api/queues" | grep -o '"calls_taken":[0-9]*' | cut -d: -f2 | paste -sd+ | bc)
  cps=$(echo "scale=1; $ok / ($end - $start)" | bc)
  cpu=$(echo "scale=2; ($ticks1 - $ticks0) / $hz" | bc)
  packets=$((packets1 - packets0))
  per=$(echo "scale=2; ($ticks1 - $ticks0) * 1000000 / $hz / $packets" | bc)
  printf '%-6s %-7s %-10s %-7s %-9s %-10s %-12s %-8s %-11s %s\n' "$rate" "$calls" "$ok" "$failed" "$cps" "$((after - before))" "$max" "$cpu" "$packets" "$per"
done
echo "server peak resident memory: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status); now: $(awk '/VmRSS/ {print $2, $3}' /proc/$server/status)"
