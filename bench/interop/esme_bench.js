// Bench ESME on the npm `smpp` package (farhadi/node-smpp), an implementation independent of
// ours; adapted from proto-tests/interop/esme_node.js. It binds as a transceiver, keeps
// WINDOW submit_sm in flight until COUNT are answered (GSM text, registered_delivery 1),
// answers every deliver_sm, counts the receipts whose id matches a submit's message_id
// (hex or decimal, leading zeros ignored), waits for all of them (DEADLINE_S at most), and
// prints one JSON line:
//   {"submitted","ok","receipts","matched","elapsed_s","submits_per_s","cycles_per_s",
//    "resp_latency_ms":{"p50","p99"},"cpu_s","max_rss_kib","ok_all","errors"}
// cpu_s is this process's user + system time from the bind to the last receipt.
// Usage: NODE_PATH=proto-tests/interop/node_modules node esme_bench.js HOST PORT SYSTEM_ID PASSWORD COUNT WINDOW
'use strict';
const smpp = require('smpp');

const [host, port, systemId, password, countArg, windowArg] = process.argv.slice(2);
if (!host || !port || systemId === undefined || password === undefined) {
  console.error('usage: node esme_bench.js HOST PORT SYSTEM_ID PASSWORD COUNT WINDOW');
  process.exit(2);
}
const COUNT = Number(countArg || 10000);
const WINDOW = Math.max(1, Number(windowArg || 100));
const DEADLINE_S = Number(process.env.DEADLINE_S || 300);
const TEXT = 'Your card payment is due on 27 Nov.';

const errors = [];
const ids = new Set(); // normalised readings of every acked message_id
const early = new Set(); // receipt ids that arrived before their submit_sm_resp
const latUs = [];
let submitted = 0;
let answered = 0;
let ok = 0;
let receipts = 0;
let matched = 0;
let cpu0 = null;
let t0 = 0n;
let tSubmitsDone = 0n;
let finished = false;

const norm = (s) => String(s).replace(/\0+$/, '').toLowerCase().replace(/^0+(?=.)/, '');
function readings(id) {
  const out = [norm(id)];
  if (/^[0-9a-f]+$/i.test(id)) out.push(norm(BigInt('0x' + id).toString()));
  return out;
}
function receiptId(pdu) {
  if (pdu.receipted_message_id) return norm(pdu.receipted_message_id);
  let text = pdu.short_message;
  if (text && typeof text === 'object' && !Buffer.isBuffer(text)) text = text.message;
  if (Buffer.isBuffer(text)) text = text.toString('latin1');
  const m = /id:(\S+)/i.exec(String(text || ''));
  return m ? norm(m[1]) : null;
}

function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  return sorted[Math.round((sorted.length - 1) * p)] / 1000;
}

function finish(reason) {
  if (finished) return;
  finished = true;
  if (reason) errors.push(reason);
  const tEnd = process.hrtime.bigint();
  const cpu = cpu0 ? process.cpuUsage(cpu0) : { user: 0, system: 0 };
  const elapsed = Number(tEnd - t0) / 1e9;
  const submitElapsed = Number((tSubmitsDone || tEnd) - t0) / 1e9;
  latUs.sort((a, b) => a - b);
  const okAll = errors.length === 0 && ok === COUNT && matched === COUNT;
  console.log(JSON.stringify({
    stack: 'npm smpp ' + require('smpp/package.json').version,
    submitted, ok, receipts, matched,
    elapsed_s: elapsed,
    submits_per_s: ok / Math.max(submitElapsed, 1e-9),
    cycles_per_s: matched / Math.max(elapsed, 1e-9),
    resp_latency_ms: { p50: pct(latUs, 0.5), p99: pct(latUs, 0.99) },
    cpu_s: (cpu.user + cpu.system) / 1e6,
    max_rss_kib: Math.round(process.resourceUsage().maxRSS),
    ok_all: okAll,
    errors: errors.slice(0, 5),
  }));
  const exit = () => process.exit(okAll ? 0 : 1);
  setTimeout(exit, 1000).unref();
  try {
    if (!session.send(new smpp.PDU('unbind', {}), () => session.close(exit))) exit();
  } catch (e) {
    exit();
  }
}

setTimeout(() => finish('timed out after ' + DEADLINE_S + ' s'), DEADLINE_S * 1000).unref();

function checkDone() {
  if (answered === COUNT && !tSubmitsDone) tSubmitsDone = process.hrtime.bigint();
  if (answered === COUNT && matched === COUNT) finish();
}

function pump() {
  while (submitted < COUNT && submitted - answered < WINDOW) {
    const i = submitted++;
    const sent = process.hrtime.bigint();
    session.submit_sm({
      source_addr_ton: 5, source_addr_npi: 0, source_addr: 'TESTCARD',
      dest_addr_ton: 1, dest_addr_npi: 1,
      destination_addr: '8190' + String(i % 100000000).padStart(8, '0'),
      registered_delivery: 1, data_coding: 0, short_message: TEXT,
    }, (resp) => {
      answered++;
      latUs.push(Number(process.hrtime.bigint() - sent) / 1000);
      if (resp.command_status === 0) {
        ok++;
        const rs = readings(resp.message_id);
        for (const r of rs) ids.add(r);
        const e = rs.find((r) => early.has(r));
        if (e !== undefined) { early.delete(e); matched++; }
      } else if (errors.length < 5) {
        errors.push('submit_sm refused: command_status 0x' + resp.command_status.toString(16));
      }
      pump();
      checkDone();
    });
  }
}

const session = smpp.connect({ host, port: Number(port) });
session.on('error', (e) => finish('connection error: ' + e.message));
session.on('close', () => finish('connection closed by the SMSC'));
session.on('enquire_link', (pdu) => session.send(pdu.response()));
session.on('unbind', (pdu) => { session.send(pdu.response()); finish('unbound by the SMSC'); });
session.on('deliver_sm', (pdu) => {
  session.send(pdu.response());
  if (!(pdu.esm_class & 0x04)) return;
  receipts++;
  const id = receiptId(pdu);
  if (id !== null && ids.has(id)) matched++;
  else if (id !== null) early.add(id);
  checkDone();
});
session.on('connect', () => {
  session.bind_transceiver({ system_id: systemId, password }, (pdu) => {
    if (pdu.command_status !== 0) {
      finish('bind_transceiver refused: command_status 0x' + pdu.command_status.toString(16));
      return;
    }
    cpu0 = process.cpuUsage();
    t0 = process.hrtime.bigint();
    pump();
  });
});
