#!/usr/bin/env python3
"""Bench ESME on python `smpplib` from PyPI, an implementation independent of ours; adapted
from proto-tests/interop/esme_smpplib.py. It binds as a transceiver, keeps WINDOW submit_sm in
flight until COUNT are answered (GSM text, registered_delivery 1), answers every deliver_sm,
counts the receipts whose id matches a submit's message_id (hex or decimal, leading zeros
ignored), waits for all of them (DEADLINE_S at most) and prints one JSON line like
esme_bench.js. cpu_s is this process's CPU time from the bind to the last receipt.

Usage: python3 esme_smpplib_bench.py HOST PORT SYSTEM_ID PASSWORD COUNT WINDOW
"""

import json
import os
import re
import resource
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.exceptions

TEXT = b"Your card payment is due on 27 Nov."
DEADLINE_S = float(os.environ.get("DEADLINE_S", "300"))


def norm(value):
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    value = str(value or "").rstrip("\0").lower()
    return value.lstrip("0") or "0"


def readings(message_id):
    out = [norm(message_id)]
    if re.fullmatch(r"[0-9a-f]+", out[0]):
        out.append(norm(str(int(out[0], 16))))
    return out


def main():
    if len(sys.argv) != 7:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    host, port, system_id, password = sys.argv[1:5]
    count, window = int(sys.argv[5]), max(1, int(sys.argv[6]))
    st = {"submitted": 0, "answered": 0, "ok": 0, "receipts": 0, "matched": 0}
    ids, early, lat_us, errors, sent_at = set(), set(), [], [], {}

    def on_sent(pdu, **_kwargs):
        st["answered"] += 1
        st["ok"] += 1
        t = sent_at.pop(pdu.sequence, None)
        if t is not None:
            lat_us.append((time.perf_counter() - t) * 1e6)
        rs = readings(pdu.message_id)
        ids.update(rs)
        for r in rs:
            if r in early:
                early.discard(r)
                st["matched"] += 1
                break

    def on_error(pdu):
        if pdu.command == "submit_sm_resp":
            st["answered"] += 1
        if len(errors) < 5:
            errors.append("%s status 0x%x" % (pdu.command, pdu.status))

    def on_received(pdu, **_kwargs):
        if not (pdu.esm_class or 0) & 0x04:
            return None
        st["receipts"] += 1
        rid = norm(getattr(pdu, "receipted_message_id", None))
        if rid == "0":
            m = re.search(rb"id:(\S+)", pdu.short_message or b"", re.IGNORECASE)
            rid = norm(m.group(1)) if m else None
        if rid in ids:
            st["matched"] += 1
        elif rid:
            early.add(rid)
        return None

    client = smpplib.client.Client(host, int(port), timeout=5, allow_unknown_opt_params=True)
    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_received)
    client.set_error_pdu_handler(on_error)
    cpu0 = t0 = t_submits = None
    try:
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        cpu0, t0 = time.process_time(), time.perf_counter()
        deadline = t0 + DEADLINE_S
        while time.perf_counter() < deadline:
            while st["submitted"] < count and st["submitted"] - st["answered"] < window:
                i = st["submitted"]
                pdu = client.send_message(
                    source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                    source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
                    source_addr="TESTCARD",
                    dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                    dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                    destination_addr="8190%08d" % (i % 100000000),
                    short_message=TEXT,
                    data_coding=0,
                    registered_delivery=smpplib.consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
                )
                sent_at[pdu.sequence] = time.perf_counter()
                st["submitted"] += 1
            if st["answered"] == count and t_submits is None:
                t_submits = time.perf_counter()
            if st["answered"] == count and st["matched"] == count:
                break
            client.read_once()
        else:
            errors.append("timed out after %d s" % DEADLINE_S)
    except Exception as e:  # pylint: disable=broad-except
        errors.append("%s: %s" % (type(e).__name__, e))
    t_end = time.perf_counter()
    cpu = time.process_time() - cpu0 if cpu0 is not None else 0.0
    try:
        client.unbind()
        client.disconnect()
    except Exception:  # pylint: disable=broad-except
        pass
    lat_us.sort()

    def pct(p):
        return lat_us[round((len(lat_us) - 1) * p)] / 1000 if lat_us else 0.0

    elapsed = (t_end - t0) if t0 else 0.0
    submit_elapsed = ((t_submits or t_end) - t0) if t0 else 0.0
    ok_all = not errors and st["ok"] == count and st["matched"] == count
    print(json.dumps({
        "stack": "smpplib " + getattr(smpplib, "__version__", "2.2.4"),
        "submitted": st["submitted"], "ok": st["ok"], "receipts": st["receipts"],
        "matched": st["matched"], "elapsed_s": elapsed,
        "submits_per_s": st["ok"] / max(submit_elapsed, 1e-9),
        "cycles_per_s": st["matched"] / max(elapsed, 1e-9),
        "resp_latency_ms": {"p50": pct(0.5), "p99": pct(0.99)},
        "cpu_s": cpu,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "ok_all": ok_all, "errors": errors,
    }), flush=True)
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
