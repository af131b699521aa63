#!/usr/bin/env bash
# A/B of ESME and simulator builds in CPU time: each pair runs `smpp bench` against its own
# fresh `smsc-sim`, the pairs alternating, so that this VM's slow and fast phases (±25%)
# fall on both. Prints full cycles/s and the CPU per cycle of each side.
#
#   bench/ab.sh [--rounds N] [--count N] [--window W] [--sim-window N] SMPP:SIM [SMPP:SIM ...]
#   bench/ab.sh old/smpp:old/smsc-sim target/release/smpp:target/release/smsc-sim
#
# The simulator's deliver_sm window is 1,000 (`--sim-window`), as in bench/run.sh scenario 3,
# so that it never holds receipts back; `--sim-window 0` leaves the flag out, for simulators
# built before it existed (their window is 64).
#
# The ESME's CPU is its own `cpu_s` (the whole process); the simulator's comes from
# /proc/<pid>/stat before and after (10 ms ticks). Everything is on 127.0.0.1 and every wait
# is bounded. docs/benchmarks.md quotes its output.
set -euo pipefail
ROUNDS=3
COUNT=200000
WINDOW=100
SIM_WINDOW=1000
PAIRS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --count) COUNT=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --sim-window) SIM_WINDOW=$2; shift ;;
    *:*) PAIRS+=("$1") ;;
    *) echo "usage: bench/ab.sh [--rounds N] [--count N] [--window W] [--sim-window N] SMPP:SIM ..." >&2; exit 2 ;;
  esac
  shift
done
[ ${#PAIRS[@]} -gt 0 ] || { echo "give at least one SMPP:SIM pair" >&2; exit 2; }
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null || true' EXIT

# shellcheck source=bench/ports.sh
. "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
SIM_FLAGS=()
[ "$SIM_WINDOW" != 0 ] && SIM_FLAGS=(--window "$SIM_WINDOW")

for _ in $(seq "$ROUNDS"); do
  for pair in "${PAIRS[@]}"; do
    esme=${pair%%:*}; sim=${pair#*:}
    port=$(free_port)
    "$sim" --listen "127.0.0.1:$port" --auth ISSUER01:secret --receipt-delay-ms 0 --threads 1 \
      "${SIM_FLAGS[@]}" 2>/dev/null & SIMPID=$!
    wait_port "$port"
    read -r u0 s0 < <(cpu_ticks "$SIMPID")
    out=$(timeout 600 "$esme" bench --port "$port" --system-id ISSUER01 --password secret \
      --count "$COUNT" --window "$WINDOW" --json 2>/dev/null | tail -n1)
    read -r u1 s1 < <(cpu_ticks "$SIMPID")
    kill "$SIMPID"; wait "$SIMPID" 2>/dev/null || true; SIMPID=
    python3 -c '
import json, sys
d = json.loads(sys.argv[1]); n = d["dlr"]["correlated"] or 1
print("%-60s cycles/s %8.0f  ESME %.2f us  sim %.2f us  ok=%s" % (sys.argv[2],
      d["dlr"]["full_cycle_per_s"], d["cpu_s"] * 1e6 / n,
      (int(sys.argv[4]) - int(sys.argv[3])) * 1e4 / n, d["ok"]))' "$out" "$pair" "$((u0 + s0))" "$((u1 + s1))"
  done
done
