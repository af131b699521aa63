#!/usr/bin/env python3
"""Drives Kannel (bearerbox + smsbox, already started by bench/run.sh) against our simulator and
prints one JSON line.

It starts a tiny HTTP receipt counter on 127.0.0.1, waits until bearerbox's admin /status.xml
shows the SMPP connection online and the smsbox connected, then sends COUNT messages through
smsbox's /cgi-bin/sendsms (THREADS keep-alive connections), each with dlr-mask=3 and a dlr-url
pointing at the counter. The clock runs from the first send until the counter has COUNT final
receipts (and the simulator, if its control port is given, has COUNT submits). CPU is read from
/proc/PID/stat (utime+stime, 10 ms ticks) of bearerbox and smsbox separately, over the same span.

Usage: python3 bench/interop/kannel_bench.py ADMIN_PORT SENDSMS_PORT BEARERBOX_PID SMSBOX_PID COUNT [SIM_CONTROL_PORT]
Environment: THREADS (default 64), DEADLINE_S (default 300), ONLINE_S (default 30), SETUP (a
note copied into the JSON).
"""

import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TEXT = "Your card payment is due on 27 Nov."
THREADS = int(os.environ.get("THREADS", "64"))
DEADLINE_S = float(os.environ.get("DEADLINE_S", "300"))
ONLINE_S = float(os.environ.get("ONLINE_S", "30"))
TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)


def get(url, timeout=2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode("utf-8", "replace")


class Receipts:
    def __init__(self):
        self.lock = threading.Lock()
        self.final = set()   # message numbers with a final receipt (type 1 or 2)
        self.delivered = 0   # type 1
        self.other = 0       # any other type (8/16: SMSC ack/reject; none asked for)
        self.calls = 0


def counter(rc):
    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            i, t = q.get("i", [""])[0], q.get("t", [""])[0]
            with rc.lock:
                rc.calls += 1
                if t in ("1", "2"):
                    rc.final.add(i)
                    rc.delivered += t == "1"
                else:
                    rc.other += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 4096  # smsbox opens many connections at once; 5 drops SYNs

    srv = Server(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def wait_online(admin_port):
    """Polls /status.xml until the smsc is online and an smsbox is connected; returns the text."""
    url = "http://127.0.0.1:%d/status.xml?password=bench" % admin_port
    end, last = time.monotonic() + ONLINE_S, "no answer"
    while time.monotonic() < end:
        try:
            xml = get(url)
            smsc = re.search(r"<smscs>.*?<status>([^<]*)", xml, re.S)
            box = re.search(r"<boxes>.*?<type>smsbox</type>", xml, re.S)
            if smsc and smsc.group(1).startswith("online") and box:
                return None
            last = "SMSC connection %s, smsbox %s" % (
                smsc.group(1) if smsc else "missing", "connected" if box else "not connected")
            if smsc and smsc.group(1).startswith("dead"):  # login refused: Kannel gives up
                return "Kannel not ready: " + last
        except OSError as e:
            last = "admin /status.xml: %s" % e
        time.sleep(0.1)
    return "Kannel not ready after %d s: %s" % (ONLINE_S, last)


def main():
    if len(sys.argv) not in (6, 7):
        print(next(l for l in __doc__.splitlines() if l.startswith("Usage")), file=sys.stderr)
        return 2
    admin_port, sendsms_port, bb_pid, sb_pid, count = map(int, sys.argv[1:6])
    sim_control = int(sys.argv[6]) if len(sys.argv) == 7 else None
    errors = []
    rc = Receipts()
    srv = counter(rc)
    dlr_port = srv.server_address[1]
    out = {"stack": "kannel", "count": count, "threads": THREADS, "ok": False}
    if os.environ.get("SETUP"):
        out["setup"] = os.environ["SETUP"]
    try:
        out["stack"] = "kannel " + re.search(
            r"<version>\s*Kannel bearerbox version `([^']+)'",
            get("http://127.0.0.1:%d/status.xml?password=bench" % admin_port), re.S).group(1)
    except (OSError, AttributeError):
        pass

    err = wait_online(admin_port)
    if err:
        out["errors"] = [err]
        print(json.dumps(out), flush=True)
        return 1

    def sim_submits():
        if sim_control is None:
            return None
        d = json.loads(get("http://127.0.0.1:%d/stats" % sim_control))
        return sum(c["submits"] for c in d["carriers"].values())

    sim0 = sim_submits()
    accepted = [0] * THREADS
    send_done = [None]
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S

    def sender(k):
        conn = http.client.HTTPConnection("127.0.0.1", sendsms_port, timeout=30)
        for i in range(k, count, THREADS):
            if time.monotonic() > deadline:
                with lock:
                    errors.append("sender %d: deadline" % k)
                return
            dlr_url = "http://127.0.0.1:%d/?i=%d&t=%%d" % (dlr_port, i)
            qs = urllib.parse.urlencode({
                "username": "bench", "password": "bench", "from": "TESTCARD",
                "to": "+8190%08d" % (i % 100000000), "text": TEXT,
                "dlr-mask": "3", "dlr-url": dlr_url,
            })
            for attempt in range(3):
                try:
                    conn.request("GET", "/cgi-bin/sendsms?" + qs)
                    r = conn.getresponse()
                    body = r.read()
                    break
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", sendsms_port, timeout=30)
                    if attempt == 2:
                        with lock:
                            errors.append("sender %d: %s: %s" % (k, type(e).__name__, e))
                        return
            if r.status == 202 or body.startswith(b"0:"):
                accepted[k] += 1
            else:
                with lock:
                    if len(errors) < 5:
                        errors.append("sendsms %d: %s" % (r.status, body[:100].decode("latin-1")))
        conn.close()

    t0 = time.monotonic()
    bb0, sb0 = ticks(bb_pid), ticks(sb_pid)
    threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    send_done[0] = time.monotonic()
    sub, shown = None, time.monotonic()
    while time.monotonic() < deadline:
        with rc.lock:
            n = len(rc.final)
        sub = sim_submits() if sim_control is not None else None
        if time.monotonic() - shown >= 1:  # progress, to the log
            shown = time.monotonic()
            print("kannel_bench: %.1f s: accepted %d, at the simulator %s, receipts %d" % (
                shown - t0, sum(accepted), None if sub is None else sub - sim0, n), file=sys.stderr)
        if n >= count and (sub is None or sub - sim0 >= count):
            break
        if errors and sum(accepted) < count:
            break
        time.sleep(0.005)
    else:
        errors.append("timed out after %d s with %d/%d receipts" % (DEADLINE_S, len(rc.final), count))
    t1 = time.monotonic()
    bb1, sb1 = ticks(bb_pid), ticks(sb_pid)
    elapsed = t1 - t0
    n_final = len(rc.final)
    out.update({
        "accepted": sum(accepted),
        "sim_submits": (sub - sim0) if sub is not None else None,
        "receipts_final": n_final,
        "receipts_delivered": rc.delivered,
        "receipt_calls_other": rc.other,
        "elapsed_s": round(elapsed, 3),
        "send_s": round(send_done[0] - t0, 3),
        "messages_per_s": round(n_final / max(elapsed, 1e-9), 1),
        "accepted_per_s": round(sum(accepted) / max(send_done[0] - t0, 1e-9), 1),
        "bearerbox_cpu_s": round((bb1 - bb0) * TICK_S, 2),
        "smsbox_cpu_s": round((sb1 - sb0) * TICK_S, 2),
        "bearerbox_cpu_us_per_msg": round((bb1 - bb0) * TICK_S * 1e6 / max(n_final, 1), 1),
        "smsbox_cpu_us_per_msg": round((sb1 - sb0) * TICK_S * 1e6 / max(n_final, 1), 1),
        "errors": errors,
    })
    out["ok"] = not errors and n_final == count and sum(accepted) == count
    print(json.dumps(out), flush=True)
    srv.shutdown()
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
