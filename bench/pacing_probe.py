#!/usr/bin/env python3
"""Pacing as the SMSC sees it (bench scenario 5): polls the simulator's control API
(`GET /stats`) every 5 ms while a paced `smpp bench` runs, records when the carrier's
`submits` counter moved, and prints one JSON line with the most submits in any 1-second
window and the long-run rate between the first and the last submit.

The counter is sampled, so a window's count can be off by what arrives within one poll
(5 ms: 0 at 11.1/s, about 3 at 500/s); the long-run rate is exact to the poll interval.

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


def main():
    addr, carrier, expected, target, timeout = sys.argv[1:6]
    expected, target, timeout = int(expected), float(target), float(timeout)
    url = "http://%s/stats" % addr
    start = submits(url, carrier)
    changes = []  # (time, count) each time the counter moved
    last = start
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = submits(url, carrier) - start
        if n != last - start:
            changes.append((time.monotonic(), n))
            last = n + start
        if n >= expected:
            break
        time.sleep(0.005)
    count = changes[-1][1] if changes else 0
    best, lo = 0, 0
    for hi in range(len(changes)):
        while changes[hi][0] - changes[lo][0] >= 1.0:
            lo += 1
        before = changes[lo - 1][1] if lo > 0 else 0
        best = max(best, changes[hi][1] - before)
    span = changes[-1][0] - changes[0][0] if len(changes) > 1 else 0.0
    # The first change already holds the first submit(s): rate over the intervals between.
    rate = (count - changes[0][1]) / span if span > 0 else 0.0
    print(json.dumps({
        "measured": "simulator submits counter, polled every 5 ms",
        "submits": count,
        "target_per_s": target,
        "max_in_any_1s_window": best,
        "long_run_per_s": rate,
        "error_pct": (rate - target) / target * 100 if target else 0.0,
        "ok": count >= expected,
    }))


if __name__ == "__main__":
    main()
