# Options shared by bench/instructions.sh, bench/syscalls.sh and bench/fresh_memory.sh
# (sourced, not run, after the caller has set DEFAULT_COUNT):
#
#   [--count N] [--window W] [--smpp BIN] [--sim BIN] [--sim-window N]
#
# Sets COUNT, WINDOW (100), SMPP and SIM (the release binaries), and SIM_WINDOW_FLAGS: the
# simulator's deliver_sm window, 1,000 as in bench/run.sh scenario 3 (`--sim-window 0` leaves
# the flag out, for simulators built before it existed; their window is 64).
usage() {
  echo "usage: bench/$(basename "$0") [--count N] [--window W] [--smpp BIN] [--sim BIN] [--sim-window N]" >&2
  exit 2
}
# require TOOL HINT: stops with HINT when TOOL is not installed.
require() { command -v "$1" >/dev/null || { echo "$1 is not installed ($2)" >&2; exit 1; }; }
COUNT=${DEFAULT_COUNT:?}
WINDOW=100
B=${CARGO_TARGET_DIR:-$PWD/target}/release
SMPP=$B/smpp
SIM=$B/smsc-sim
SIM_WINDOW=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --smpp) SMPP=$2; shift ;;
    --sim) SIM=$2; shift ;;
    --sim-window) SIM_WINDOW=$2; shift ;;
    *) usage ;;
  esac
  shift
done
SIM_WINDOW_FLAGS=()
if [ "$SIM_WINDOW" != 0 ]; then SIM_WINDOW_FLAGS=(--window "$SIM_WINDOW"); fi
