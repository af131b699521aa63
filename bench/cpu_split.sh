#!/usr/bin/env bash
# User and system CPU per cycle on each side of the frame echo (bench scenario 1) and of
# `smpp bench` against `smsc-sim` (scenario 3), one right after the other at the same window:
# where the pair's time goes beyond the ceiling's. System time is the kernel's loopback TCP,
# which the echo pays too; user time is the programs' own work.
#
#   bench/cpu_split.sh [--count N] [--window W] [--smpp BIN] [--sim BIN] [--sim-window N]
#
# Default: 1,000,000 messages at W=100 (the echo moves twice as many, for a run of similar
# length), the release binaries, among them target/release/smpp-echo
# (`cargo build --release -p smpp-bench-echo`). A client's times are its own rusage; a
# server's come from /proc/PID/stat (10 ms ticks). Everything is on 127.0.0.1 and every wait
# is bounded. Prints one line per side and pair.
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_COUNT=1000000
# shellcheck source=bench/pair_args.sh
. bench/pair_args.sh
ECHO=$B/smpp-echo
[ -x "$ECHO" ] || { echo "$ECHO is missing (cargo build --release -p smpp-bench-echo)" >&2; exit 1; }
# report echo|ours JSON "client times" "server ticks before" "server ticks after"
report() {
  python3 - "$@" <<'EOF'
import json, sys
kind, path, ctimes, t0, t1 = sys.argv[1:]
d = json.loads(open(path).read().strip().splitlines()[-1])
if kind == "echo":
    n, rate, client, server = d["messages"], d["messages_per_s"], "client", "server"
else:
    n, rate, client, server = d["dlr"]["correlated"], d["dlr"]["full_cycle_per_s"], "ESME", "sim"
cu, cs = map(float, ctimes.split()[:2])
(u0, s0), (u1, s1) = map(int, t0.split()), map(int, t1.split())
us = lambda seconds: seconds * 1e6 / n
print("%-5s %9.0f cycles/s  %-6s user %.2f sys %.2f  %-6s user %.2f sys %.2f  (µs per cycle)"
      % (kind, rate, client, us(cu), us(cs), server, us((u1 - u0) / 100), us((s1 - s0) / 100)))
EOF
}

# The frame echo.
coproc ECHOSRV { exec "$ECHO" server --receipts; }
SERVER=$ECHOSRV_PID
read -r line <&"${ECHOSRV[0]}"
t0=$(cpu_ticks "$SERVER")
ct=$(timed "$TMP/echo.json" "$ECHO" client --port "${line#PORT }" --window "$WINDOW" \
  --count $((COUNT * 2)) --receipts --json)
t1=$(cpu_ticks "$SERVER")
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
report echo "$TMP/echo.json" "$ct" "$t0" "$t1"

# Our ESME and simulator.
port=$(free_port)
"$SIM" --listen "127.0.0.1:$port" --auth ISSUER01:secret --receipt-delay-ms 0 --threads 1 \
  "${SIM_WINDOW_FLAGS[@]}" 2>/dev/null &
SERVER=$!
wait_port "$port"
t0=$(cpu_ticks "$SERVER")
ct=$(timed "$TMP/ours.json" "$SMPP" bench --port "$port" --system-id ISSUER01 --password secret \
  --count "$COUNT" --window "$WINDOW" --json)
t1=$(cpu_ticks "$SERVER")
report ours "$TMP/ours.json" "$ct" "$t0" "$t1"
