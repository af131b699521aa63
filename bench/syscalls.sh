#!/usr/bin/env bash
# System calls of `smpp bench` and of `smsc-sim` over one run: sendto, recvfrom and
# epoll_wait on each side, counted by `perf stat` (tracepoints, so it needs perf and
# permission to read them: root, or kernel.perf_event_paranoid <= -1). Fewer sends for the
# same messages mean larger writes: each send on loopback also runs the peer's TCP receive.
#
#   bench/syscalls.sh [--count N] [--window W] [--smpp BIN] [--sim BIN] [--sim-window N]
#
# Default: 300,000 messages at W=100, the release binaries, the simulator's deliver_sm
# window 1,000 as in bench/run.sh. perf adds a little CPU to both sides, so the cycle rate it
# prints is below an unwatched run's. Everything is on 127.0.0.1 and every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
DEFAULT_COUNT=300000
# shellcheck source=bench/pair_args.sh
. bench/pair_args.sh
require perf "apt-get install linux-perf"
EVENTS=syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_epoll_wait

port=$(free_port)
# perf writes the simulator's counts when the simulator stops (SIGINT, below).
perf stat -x, -e "$EVENTS" -o "$TMP/sim.csv" "$SIM" --listen "127.0.0.1:$port" \
  --auth ISSUER01:secret --receipt-delay-ms 0 --threads 1 "${SIM_WINDOW_FLAGS[@]}" 2>/dev/null &
SERVER=$!
wait_port "$port"
json=$(timeout 600 perf stat -x, -e "$EVENTS" -o "$TMP/esme.csv" "$SMPP" bench --port "$port" \
  --system-id ISSUER01 --password secret --count "$COUNT" --window "$WINDOW" --json 2>/dev/null | tail -n1)
# The simulator itself (perf's child): a background job of a script ignores SIGINT, and so
# would perf.
kill -INT "$(pgrep -P "$SERVER")" 2>/dev/null || kill "$SERVER"
for _ in $(seq 100); do [ -s "$TMP/sim.csv" ] && grep -q epoll "$TMP/sim.csv" && break; sleep 0.1; done
wait "$SERVER" 2>/dev/null || true
SERVER=
python3 - "$json" "$TMP/esme.csv" "$TMP/sim.csv" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
def counts(path):
    out = {}
    for line in open(path):
        f = line.split(",")
        if len(f) > 2 and f[2].startswith("syscalls:sys_enter_"):
            out[f[2][len("syscalls:sys_enter_"):]] = int(f[0]) if f[0].isdigit() else None
    return out
print(json.dumps({"count": d["pdus"], "full_cycle_per_s": round(d["dlr"]["full_cycle_per_s"]),
                  "ok": d["ok"], "esme": counts(sys.argv[2]), "sim": counts(sys.argv[3])}))
PY
