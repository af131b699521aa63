// An ESME built on the npm `smpp` package (farhadi/node-smpp), an implementation independent
// of ours, used by proto-tests/tests/interop_esmes.rs against smpp-sim.
//
// It binds as a transceiver and submits, each with registered_delivery 1:
//   - 3 plain messages (GSM 03.38; two with data_coding 0, one left to the package, which
//     picks its "ASCII" encoding, data_coding 0x01, with GSM bytes),
//   - 3 UCS-2 Japanese messages (data_coding 8, encoded by the package),
//   - 1 long Japanese message split here into UDH parts (05 00 03 ref total seq, esm_class
//     0x40, short_message = UDH + UCS-2 BE bytes).
// It answers every deliver_sm with deliver_sm_resp, takes each receipt's id from the
// receipted_message_id TLV or the `id:` of the receipt text, waits (20 s at most) until every
// submitted PDU has a receipt, prints one JSON line
//   {"submitted":N,"receipts":M,"ids":[...],"matched":K,"errors":[...]}
// and exits 0 when every submit got its receipt, 1 otherwise.
//
// Usage: node esme_node.js HOST PORT SYSTEM_ID PASSWORD
'use strict';
const smpp = require('smpp');

const [host, port, systemId, password] = process.argv.slice(2);
if (!host || !port || systemId === undefined || password === undefined) {
  console.error('usage: node esme_node.js HOST PORT SYSTEM_ID PASSWORD');
  process.exit(2);
}

// The same texts and numbers as esme_smpplib.py; interop_esmes.rs checks what the handsets got.
const SOURCE = 'TESTCARD';
const PLAIN_TO = '819011110001';
const UCS2_TO = '819011110002';
const CONCAT_TO = '819011110003';
const PLAIN = [
  'Card 1234: 1,000 JPY @ Shop_A {ok}',
  'Card 1234: payment of 2,500 JPY accepted',
  'Your code is 482913',
];
const UCS2 = [
  'ご利用ありがとうございます。カード番号下4桁1234',
  'お支払い金額：1,000円（株式会社テスト）',
  '認証コード：482913（5分間有効）',
];
const LONG =
  'いつも当社カードをご利用いただき、誠にありがとうございます。' +
  '本日、お客様のカード（下4桁1234）で、オンラインショップにて合計12,345円のお支払いがありました。' +
  'お心当たりのない場合は、裏面に記載のカードデスク（24時間受付）まで至急ご連絡ください。' +
  'なお、このメッセージへの返信はできません。今後ともよろしくお願い申し上げます。';

const DEADLINE_MS = 20000;
const errors = [];
const submitIds = []; // message_id of every accepted submit_sm, in submission order
const receiptIds = []; // id of every receipt, in arrival order
let submitted = 0; // submit_sm PDUs sent
let answered = 0; // submit_sm_resp received (any status)
let finished = false;

function receiptId(pdu) {
  if (pdu.receipted_message_id) {
    return String(pdu.receipted_message_id).replace(/\0+$/, '');
  }
  let text = pdu.short_message;
  if (text && typeof text === 'object' && !Buffer.isBuffer(text)) {
    text = text.message;
  }
  if (Buffer.isBuffer(text)) {
    text = text.toString('latin1');
  }
  const m = /id:(\S+)/i.exec(String(text || ''));
  return m ? m[1] : null;
}

function matchedCount() {
  const got = new Set(receiptIds);
  return submitIds.filter((id) => got.has(id)).length;
}

function finish(reason) {
  if (finished) return;
  finished = true;
  if (reason) errors.push(reason);
  const matched = matchedCount();
  const ok =
    errors.length === 0 && submitted > 0 && submitIds.length === submitted &&
    matched === submitted;
  console.log(JSON.stringify({
    submitted,
    receipts: receiptIds.length,
    ids: submitIds,
    matched,
    errors,
  }));
  const exit = () => process.exit(ok ? 0 : 1);
  // Unbind politely when possible, but never wait long for it.
  setTimeout(exit, 1000).unref();
  try {
    if (!session.send(new smpp.PDU('unbind', {}), () => session.close(exit))) exit();
  } catch (e) {
    exit();
  }
}

setTimeout(() => finish('timed out after ' + DEADLINE_MS + ' ms'), DEADLINE_MS).unref();

function checkDone() {
  if (submitted > 0 && answered === submitted && matchedCount() === submitted) finish();
}

function ucs2be(text) {
  const le = Buffer.from(text, 'utf16le');
  const be = Buffer.alloc(le.length);
  for (let i = 0; i < le.length; i += 2) {
    be[i] = le[i + 1];
    be[i + 1] = le[i];
  }
  return be;
}

/// Splits `text` into UCS-2 parts of at most 67 characters behind a 6-octet UDH
/// (05 00 03 ref total seq): 140 octets each.
function udhParts(text, ref) {
  const chunks = [];
  for (let i = 0; i < text.length; i += 67) chunks.push(text.slice(i, i + 67));
  return chunks.map((c, i) =>
    Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, chunks.length, i + 1]), ucs2be(c)]));
}

const session = smpp.connect({ host, port: Number(port) });
session.on('error', (e) => finish('connection error: ' + e.message));
session.on('close', () => finish('connection closed by the SMSC'));
session.on('enquire_link', (pdu) => session.send(pdu.response()));
session.on('unbind', (pdu) => {
  session.send(pdu.response());
  finish('unbound by the SMSC');
});
session.on('deliver_sm', (pdu) => {
  session.send(pdu.response());
  if (!(pdu.esm_class & 0x04)) return; // an MO, not a receipt
  const id = receiptId(pdu);
  if (id === null) {
    errors.push('receipt without an id: ' + JSON.stringify(pdu.short_message));
  } else {
    receiptIds.push(id);
  }
  checkDone();
});

function submit(fields) {
  submitted++;
  const pdu = Object.assign(
    {
      source_addr_ton: 5, // alphanumeric
      source_addr_npi: 0,
      source_addr: SOURCE,
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      registered_delivery: 1,
    },
    fields,
  );
  session.submit_sm(pdu, (resp) => {
    answered++;
    if (resp.command_status === 0) {
      submitIds.push(resp.message_id);
    } else {
      errors.push('submit_sm to ' + pdu.destination_addr + ' refused: command_status 0x' +
        resp.command_status.toString(16) + ' (' + (smpp.errors && Object.keys(smpp.errors)
        .find((k) => smpp.errors[k] === resp.command_status) || '?') + ')');
    }
    checkDone();
  });
}

session.on('connect', () => {
  session.bind_transceiver({ system_id: systemId, password }, (pdu) => {
    if (pdu.command_status !== 0) {
      finish('bind_transceiver refused: command_status 0x' + pdu.command_status.toString(16));
      return;
    }
    submit({ destination_addr: PLAIN_TO, data_coding: 0, short_message: PLAIN[0] });
    submit({ destination_addr: PLAIN_TO, data_coding: 0, short_message: PLAIN[1] });
    // No data_coding: the package detects the text as its "ASCII" (GSM 03.38), data_coding 1.
    submit({ destination_addr: PLAIN_TO, short_message: PLAIN[2] });
    for (const text of UCS2) {
      submit({ destination_addr: UCS2_TO, data_coding: 8, short_message: text });
    }
    for (const part of udhParts(LONG, 0x5a)) {
      submit({ destination_addr: CONCAT_TO, data_coding: 8, esm_class: 0x40, short_message: part });
    }
  });
});
