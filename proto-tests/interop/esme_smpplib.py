#!/usr/bin/env python3
"""An ESME built on python `smpplib` from PyPI (an implementation independent of ours), used by
proto-tests/tests/interop_esmes.rs against smpp-sim.

It binds as a transceiver and submits, each with registered_delivery 1:
  - 3 plain GSM 03.38 messages (data_coding 0, encoded by smpplib.gsm),
  - 3 UCS-2 Japanese messages (data_coding 8),
  - 1 long Japanese message split by smpplib.gsm.make_parts into UDH parts (esm_class 0x40).
It answers every deliver_sm with deliver_sm_resp (smpplib does that after the handler), takes
each receipt's id from the receipted_message_id TLV or the `id:` of the receipt text, waits
(20 s at most) until every submitted PDU has a receipt, prints one JSON line
  {"submitted":N,"receipts":M,"ids":[...],"matched":K,"errors":[...]}
and exits 0 when every submit got its receipt, 1 otherwise.

Usage: python3 esme_smpplib.py HOST PORT SYSTEM_ID PASSWORD
"""

import json
import re
import sys
import time

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

# The same texts and numbers as esme_node.js; interop_esmes.rs checks what the handsets got.
SOURCE = "TESTCARD"
PLAIN_TO = "819011110001"
UCS2_TO = "819011110002"
CONCAT_TO = "819011110003"
PLAIN = [
    "Card 1234: 1,000 JPY @ Shop_A {ok}",
    "Card 1234: payment of 2,500 JPY accepted",
    "Your code is 482913",
]
UCS2 = [
    "ご利用ありがとうございます。カード番号下4桁1234",
    "お支払い金額：1,000円（株式会社テスト）",
    "認証コード：482913（5分間有効）",
]
LONG = (
    "いつも当社カードをご利用いただき、誠にありがとうございます。"
    "本日、お客様のカード（下4桁1234）で、オンラインショップにて合計12,345円のお支払いがありました。"
    "お心当たりのない場合は、裏面に記載のカードデスク（24時間受付）まで至急ご連絡ください。"
    "なお、このメッセージへの返信はできません。今後ともよろしくお願い申し上げます。"
)

DEADLINE_S = 20.0


def text(value):
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)


def main():
    if len(sys.argv) != 5:
        print("usage: esme_smpplib.py HOST PORT SYSTEM_ID PASSWORD", file=sys.stderr)
        return 2
    host, port, system_id, password = sys.argv[1:]
    deadline = time.monotonic() + DEADLINE_S

    submitted = 0  # submit_sm PDUs sent
    answered = 0  # submit_sm_resp received (any status)
    submit_ids = []  # message_id of every accepted submit, in response order
    receipt_ids = []  # id of every receipt, in arrival order
    errors = []

    def matched():
        got = set(receipt_ids)
        return sum(1 for i in submit_ids if i in got)

    def on_sent(pdu, **_kwargs):
        nonlocal answered
        answered += 1
        submit_ids.append(text(pdu.message_id).rstrip("\0"))

    def on_error(pdu):
        nonlocal answered
        if pdu.command == "submit_sm_resp":
            answered += 1
        errors.append(
            "%s refused: command_status 0x%x (%s)"
            % (pdu.command, pdu.status, smpplib.consts.DESCRIPTIONS.get(pdu.status, "?"))
        )

    def on_received(pdu, **_kwargs):
        # smpplib has no constant for 0x04 (SMSC delivery receipt, smpp34.md §7.1).
        if not (pdu.esm_class or 0) & 0x04:
            return None  # an MO, not a receipt
        rid = text(getattr(pdu, "receipted_message_id", None)).rstrip("\0")
        if not rid:
            m = re.search(r"id:(\S+)", text(pdu.short_message), re.IGNORECASE)
            rid = m.group(1) if m else ""
        if rid:
            receipt_ids.append(rid)
        else:
            errors.append("receipt without an id: %r" % (pdu.short_message,))
        return None  # ESME_ROK in the deliver_sm_resp

    client = smpplib.client.Client(host, int(port), timeout=1, allow_unknown_opt_params=True)
    client.set_message_sent_handler(on_sent)
    client.set_message_received_handler(on_received)
    client.set_error_pdu_handler(on_error)

    def submit(to, data_coding, short_message, esm_class=0):
        nonlocal submitted
        client.send_message(
            source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
            source_addr_npi=smpplib.consts.SMPP_NPI_UNK,
            source_addr=SOURCE,
            dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
            dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
            destination_addr=to,
            short_message=short_message,
            data_coding=data_coding,
            esm_class=esm_class,
            registered_delivery=smpplib.consts.SMPP_SMSC_DELIVERY_RECEIPT_BOTH,
        )
        submitted += 1

    try:
        client.connect()
        client.bind_transceiver(system_id=system_id, password=password)
        for msg in PLAIN:
            parts, coding, esm = smpplib.gsm.make_parts(msg, smpplib.consts.SMPP_ENCODING_DEFAULT)
            assert len(parts) == 1 and coding == smpplib.consts.SMPP_ENCODING_DEFAULT, msg
            submit(PLAIN_TO, coding, parts[0], esm)
        for msg in UCS2:
            parts, coding, esm = smpplib.gsm.make_parts(msg, smpplib.consts.SMPP_ENCODING_ISO10646)
            submit(UCS2_TO, coding, parts[0], esm)
        parts, coding, esm = smpplib.gsm.make_parts(LONG, smpplib.consts.SMPP_ENCODING_ISO10646)
        assert len(parts) > 1 and esm == smpplib.consts.SMPP_GSMFEAT_UDHI, (len(parts), esm)
        for part in parts:
            submit(CONCAT_TO, coding, part, esm)

        while time.monotonic() < deadline:
            if answered == submitted and matched() == submitted:
                break
            try:
                # Times out after the client's 1 s socket timeout (then sends enquire_link).
                client.read_once()
            except smpplib.exceptions.ConnectionError:
                errors.append("connection closed by the SMSC")
                break
        else:
            errors.append("timed out after %d s" % DEADLINE_S)
    except Exception as e:  # pylint: disable=broad-except
        # Whatever went wrong (refused bind, lost connection, a PDU smpplib cannot parse),
        # the JSON line below still reports it.
        errors.append("%s: %s" % (type(e).__name__, e))
    finally:
        try:
            if client.state in (
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_RX,
                smpplib.consts.SMPP_CLIENT_STATE_BOUND_TRX,
            ):
                client.unbind()
        except Exception:  # pylint: disable=broad-except
            pass
        try:
            client.disconnect()
        except Exception:  # pylint: disable=broad-except
            pass

    k = matched()
    print(
        json.dumps(
            {
                "submitted": submitted,
                "receipts": len(receipt_ids),
                "ids": submit_ids,
                "matched": k,
                "errors": errors,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    ok = not errors and submitted > 0 and len(submit_ids) == submitted and k == submitted
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
