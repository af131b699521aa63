// Bench copy of proto-tests/interop/smsc.js: an SMSC built on the npm `smpp` package
// (farhadi/node-smpp), an implementation independent of ours. It accepts ISSUER01/secret,
// answers submit_sm with a hex message_id and, when a receipt is requested, sends an
// Appendix B receipt at once (setImmediate, not after 5 ms as the interop test does) whose id
// is the same number in zero-padded decimal. It prints "PORT <n>" once listening and
// "CPU <user+system µs>" for its own process when stdin closes, then exits.
// Usage: NODE_PATH=proto-tests/interop/node_modules node bench/interop/smsc_bench.js
'use strict';
const smpp = require('smpp');

let next = 0x38601fa;
const server = smpp.createServer({ debug: false }, (session) => {
  const bind = (pdu) => {
    if (pdu.system_id !== 'ISSUER01' || pdu.password !== 'secret') {
      session.send(pdu.response({ command_status: smpp.ESME_RINVPASWD }));
      return;
    }
    session.send(pdu.response({ system_id: 'NODESMSC' }));
  };
  session.on('bind_transceiver', bind);
  session.on('bind_transmitter', bind);
  session.on('bind_receiver', bind);
  session.on('enquire_link', (pdu) => session.send(pdu.response()));
  session.on('unbind', (pdu) => { session.send(pdu.response()); session.close(); });
  session.on('submit_sm', (pdu) => {
    const id = next++;
    session.send(pdu.response({ message_id: id.toString(16) }));
    if (pdu.registered_delivery & 0x01) {
      const text = 'id:' + String(id).padStart(10, '0') +
        ' sub:001 dlvrd:001 submit date:2511231200 done date:2511231201 stat:DELIVRD err:000 text:';
      setImmediate(() => session.deliver_sm({
        source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi,
        source_addr: pdu.destination_addr,
        dest_addr_ton: pdu.source_addr_ton, dest_addr_npi: pdu.source_addr_npi,
        destination_addr: pdu.source_addr,
        esm_class: 0x04,
        short_message: text,
      }));
    }
  });
  session.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  console.log('PORT ' + server.address().port);
});
const done = () => {
  const c = process.cpuUsage();
  console.log('CPU ' + (c.user + c.system));
  process.exit(0);
};
// Never outlive the script that started us.
setTimeout(done, 900000).unref();
process.stdin.on('end', done);
process.stdin.resume();
