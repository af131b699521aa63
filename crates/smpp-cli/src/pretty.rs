//! A human-readable dissection of a PDU, in the spirit of Wireshark's packet details.

use std::fmt::Write as _;

use smpp_codec::{FieldVisitor, Npi, Pdu, Ton};

use crate::hexutil::to_hex;

/// Renders a PDU as indented lines: header, then fields in wire order, then TLVs.
pub(crate) fn render(pdu: &Pdu) -> String {
    let id = pdu.command_id();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({:#010x})  command_length {}  sequence_number {} ({:#x})",
        id,
        id.get(),
        pdu.encoded_len(),
        pdu.sequence_number,
        pdu.sequence_number
    );
    let _ = writeln!(
        out,
        "  command_status {} ({:#010x})",
        pdu.command_status,
        pdu.command_status.get()
    );
    if !pdu.body.body_present() {
        let _ = writeln!(out, "  (response sent without its body)");
    }
    let mut p = Pretty { out, indent: 2 };
    pdu.body.visit_fields(&mut p);
    let mut out = p.out;
    if !pdu.tlvs.is_empty() {
        let _ = writeln!(out, "  TLVs");
        for t in pdu.tlvs.iter() {
            let name = t.tag.name().unwrap_or("(unknown)");
            let typed = t
                .as_int()
                .map(|v| format!(" = {v}"))
                .or_else(|| t.as_c_str().map(|s| format!(" = {:?}", String::from_utf8_lossy(s))))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    {name:<28} tag {:#06x} len {:<5} {}{typed}",
                t.tag.get(),
                t.value.len(),
                spaced_hex(t.value)
            );
        }
    }
    out
}

fn spaced_hex(b: &[u8]) -> String {
    let h = to_hex(b);
    let mut s = String::with_capacity(h.len() * 3 / 2);
    for (i, pair) in h.as_bytes().chunks(2).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(std::str::from_utf8(pair).unwrap_or(""));
    }
    s
}

struct Pretty {
    out: String,
    indent: usize,
}

impl Pretty {
    fn line(&mut self, name: &str, value: String) {
        let _ = writeln!(self.out, "{:indent$}{name:<28} {value}", "", indent = self.indent);
    }
}

impl FieldVisitor for Pretty {
    fn int(&mut self, name: &'static str, value: u32, _: u8) {
        let meaning = match name {
            n if n.ends_with("_ton") => Ton(value as u8).name(),
            n if n.ends_with("_npi") => Npi(value as u8).name(),
            _ => None,
        };
        let v = match meaning {
            Some(m) => format!("{value} ({m})"),
            None => format!("{value} ({value:#04x})"),
        };
        self.line(name, v);
    }
    fn c_str(&mut self, name: &'static str, value: &[u8]) {
        self.line(name, format!("{:?}", String::from_utf8_lossy(value)));
    }
    fn octets(&mut self, name: &'static str, value: &[u8]) {
        self.line(name, spaced_hex(value));
    }
    fn begin_list(&mut self, name: &'static str, len: usize) {
        self.line(name, format!("[{len} entries]"));
    }
    fn begin_item(&mut self) {
        self.indent += 2;
        let _ = writeln!(self.out, "{:indent$}-", "", indent = self.indent);
        self.indent += 2;
    }
    fn end_item(&mut self) {
        self.indent -= 4;
    }
    fn end_list(&mut self) {}
}
