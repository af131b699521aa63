#!/usr/bin/env python3
"""Pacing as the SMSC sees it (bench scenario 5): polls the simulator's control API
(`GET /stats`) every 5 ms while a paced `smpp bench` runs, records when the carrier's
`submits` counter moved, and prints one JSON line with the most submits in any 1-second
window and the long-run rate between the first and the last submit.

The counter is sampled, so the most submits in any 1-second window is known between two
bounds: `max_in_any_1s_window` (the lower bound, what surely arrived within one second:
the growth between two polls at most 1 s apart) and `max_in_any_1s_window_upper` (what may
have: the growth across the polls around a 1-second window). They differ by what arrives
between two polls (5 ms apart when the box keeps up: 0 at 11.1/s, about 3 at 500/s) and
widen when a poll is late. The long-run rate is exact to the poll interval.

Usage: python3 pacing_probe.py CONTROL_ADDR CARRIER EXPECTED TARGET_TPS TIMEOUT_S
It stops when the counter reaches EXPECTED (or at TIMEOUT_S).
"""

import json
import sys
import time
import urllib.request


def submits(url, carrier):
    with urllib.request.urlopen(url, timeout=2) as r:
        stats = json.load(r)
    return stats["carriers"][carrier]["submits"]


def window_bounds(polls):
    """(lower, upper) bounds of the most submits in any 1-second window, from (time, count)
    polls. Arrivals between polls i and j (times t_i < t_j) lie in (t_i, t_j]: if
    t_j - t_i <= 1 they fit in one window (lower). A window starting in (t_i, t_i+1] ends by
    t_i+1 + 1, so it lies within (t_i, t_j] for the first j with t_j >= t_i+1 + 1 (upper)."""
    lower = upper = 0
    lo = 0
    hi = 0
    for j, (tj, nj) in enumerate(polls):
        while tj - polls[lo][0] > 1.0:
            lo += 1
        lower = max(lower, nj - polls[lo][1])
    for i in range(len(polls) - 1):
        end = polls[i + 1][0] + 1.0
        hi = max(hi, i + 1)
        while hi < len(polls) - 1 and polls[hi][0] < end:
            hi += 1
        upper = max(upper, polls[hi][1] - polls[i][1])
    return lower, upper


def main():
    addr, carrier, expected, target, timeout = sys.argv[1:6]
    expected, target, timeout = int(expected), float(target), float(timeout)
    url = "http://%s/stats" % addr
    start = submits(url, carrier)
    polls = [(time.monotonic(), 0)]  # (time, submits since start) at every poll
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = submits(url, carrier) - start
        polls.append((time.monotonic(), n))
        if n >= expected:
            break
        time.sleep(0.005)
    lower, upper = window_bounds(polls)
    changes = [p for i, p in enumerate(polls) if i == 0 or p[1] != polls[i - 1][1]][1:]
    count = polls[-1][1]
    span = changes[-1][0] - changes[0][0] if len(changes) > 1 else 0.0
    # The first change already holds the first submit(s): rate over the intervals between.
    rate = (count - changes[0][1]) / span if span > 0 else 0.0
    print(json.dumps({
        "measured": "simulator submits counter, polled every 5 ms",
        "submits": count,
        "target_per_s": target,
        "max_in_any_1s_window": lower,
        "max_in_any_1s_window_upper": upper,
        "longest_poll_gap_ms": max((b[0] - a[0]) * 1000 for a, b in zip(polls, polls[1:])),
        "long_run_per_s": rate,
        "error_pct": (rate - target) / target * 100 if target else 0.0,
        "ok": count >= expected,
    }))


if __name__ == "__main__":
    main()
