#!/usr/bin/env bash
# Fresh memory faulted in while `smpp bench` runs against `smsc-sim` (both programs): the
# growth of /proc/vmstat's `thp_fault_alloc` (x 2 MB) and `pgfault` (x 4 KB) across the run,
# on an otherwise idle box, with each side's CPU. docs/benchmarks.md (fifth round) quotes it.
#
#   bench/fresh_memory.sh [--count N] [--window W] [--smpp BIN] [--sim BIN] [--sim-window N]
#
# Default: 300,000 messages at W=100, the release binaries, the simulator at --window 1000.
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_COUNT=300000
# shellcheck source=bench/pair_args.sh
. bench/pair_args.sh
vm() { awk '/^thp_fault_alloc |^pgfault / {printf "%s ", $2} END {print ""}' /proc/vmstat; }
port=$(free_port)
"$SIM" --listen "127.0.0.1:$port" --auth ISSUER01:secret --receipt-delay-ms 0 --threads 1 \
  "${SIM_WINDOW_FLAGS[@]}" 2>/dev/null & SERVER=$!
wait_port "$port"
read -r pf0 thp0 < <(vm)
read -r eu es rss < <(timed "$TMP/esme.json" "$SMPP" bench --port "$port" \
  --system-id ISSUER01 --password secret --count "$COUNT" --window "$WINDOW" --json)
json=$(tail -n1 "$TMP/esme.json")
read -r pf1 thp1 < <(vm)
read -r su ss < <(cpu_ticks "$SERVER")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
python3 -c '
import json, sys
d = json.loads(sys.argv[1]); n = int(sys.argv[2])
pf, thp = int(sys.argv[3]), int(sys.argv[4])
eu, es, rss, su, ss = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
print("fresh %d MB (%d THP faults, %d 4 KB faults); %d cycles/s; ESME %.2f us/cycle (user %.2f, sys %.2f), RSS %d MiB; simulator %.2f us/cycle; ok=%s" % (
  (pf * 4096 + thp * 2097152) >> 20, thp, pf, d["dlr"]["full_cycle_per_s"], (eu + es) * 1e6 / n,
  eu * 1e6 / n, es * 1e6 / n, rss >> 10, (su + ss) * 1e4 / n, d["ok"]))' \
  "$json" "$COUNT" "$((pf1 - pf0))" "$((thp1 - thp0))" "$eu" "$es" "$rss" "$su" "$ss"
