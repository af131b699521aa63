#!/usr/bin/env bash
# Instructions per full cycle (submit, resp, receipt, receipt resp) of `smpp bench` and of
# `smsc-sim`, counted by valgrind (cachegrind, no cache simulation). Unlike CPU time, the count
# does not move with this shared VM's slow and fast phases (±1% between runs against ±25%), so
# it is how docs/benchmarks.md compares two builds of the ESME or the simulator.
#
#   bench/instructions.sh [--count N] [--window W] [--smpp BIN] [--sim BIN] [--sim-window N]
#
# The simulator's deliver_sm window is 1,000 as in bench/run.sh (`--sim-window 0` leaves the
# flag out, for simulators built before it existed).
#
# Default: 50,000 messages at W=100 with the release binaries of target/release. It runs the
# ESME under valgrind against a plain simulator, then the simulator under valgrind against a
# plain ESME, and prints both counts. Everything is on 127.0.0.1 and every wait is bounded.
# Needs valgrind (apt-get install valgrind). The counts include each program's start and
# stop, spread over the messages (the simulator's stop frees its store: about 2,500 per
# message at 50,000).
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_COUNT=50000
# shellcheck source=bench/pair_args.sh
. bench/pair_args.sh
require valgrind "apt-get install valgrind"
sim_args() {
  echo "--listen 127.0.0.1:$1 --auth ISSUER01:secret --receipt-delay-ms 0 --threads 1 ${SIM_WINDOW_FLAGS[*]}"
}
bench() { # bench PORT [wrapper...]
  local port=$1; shift
  timeout 600 "$@" "$SMPP" bench --port "$port" --system-id ISSUER01 --password secret \
    --count "$COUNT" --window "$WINDOW" --json 2>/dev/null | tail -n1
}
ir_of() { awk '/^summary:/ {print $2}' "$1"; }
per_cycle() { # per_cycle IR JSON
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); n=d["dlr"]["correlated"]
print("%.0f" % (int(sys.argv[1]) / n) if d["ok"] and n else "FAIL")' "$1" "$2"
}

# The ESME under valgrind.
port=$(free_port)
# shellcheck disable=SC2046
"$SIM" $(sim_args "$port") 2>/dev/null & SERVER=$!
wait_port "$port"
json=$(bench "$port" valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$TMP/esme.out")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
esme=$(per_cycle "$(ir_of "$TMP/esme.out")" "$json")

# The simulator under valgrind (SIGINT lets it stop cleanly and write its counts).
port=$(free_port)
# shellcheck disable=SC2046
valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$TMP/sim.out" "$SIM" $(sim_args "$port") \
  2>/dev/null & SERVER=$!
wait_port "$port"
json=$(bench "$port")
kill -INT "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
simir=$(per_cycle "$(ir_of "$TMP/sim.out")" "$json")

echo "{\"count\":$COUNT,\"window\":$WINDOW,\"esme_instructions_per_cycle\":\"$esme\",\"sim_instructions_per_cycle\":\"$simir\"}"
[ "$esme" != FAIL ] && [ "$simir" != FAIL ]
