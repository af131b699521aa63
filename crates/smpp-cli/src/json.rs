//! The JSON shape of a PDU (the `smpp pdu` contract) in both directions.
//!
//! ```json
//! {"command_length":N,"command_id":N,"command_name":"submit_sm","command_status":N,
//!  "status_name":"ESME_ROK","sequence_number":N,"fields":{...},
//!  "tlvs":[{"tag":N,"name":"message_payload","value_hex":"..."}]}
//! ```

use std::collections::HashSet;

use bytes::Bytes;
use serde_json::{json, Map, Value};
use smpp_codec::{
    BuildError, CommandId, CommandStatus, DecodeError, FieldSource, FieldVisitor, Pdu, Reply, Tag,
    Tlvs,
};

use crate::hexutil::{from_hex, to_hex};

/// The JSON object of a decoded PDU.
pub(crate) fn pdu_to_json(pdu: &Pdu) -> Value {
    let id = pdu.command_id();
    let mut fields = JsonFields::default();
    pdu.body.visit_fields(&mut fields);
    let mut obj = Map::new();
    obj.insert("command_length".into(), json!(pdu.encoded_len()));
    obj.insert("command_id".into(), json!(id.get()));
    obj.insert("command_name".into(), json!(id.name()));
    obj.insert("command_status".into(), json!(pdu.command_status.get()));
    obj.insert("status_name".into(), json!(pdu.command_status.name()));
    obj.insert("sequence_number".into(), json!(pdu.sequence_number));
    obj.insert("fields".into(), Value::Object(fields.finish()));
    if !pdu.body.body_present() {
        obj.insert("body_present".into(), json!(false));
    }
    obj.insert("tlvs".into(), tlvs_to_json(&pdu.tlvs));
    Value::Object(obj)
}

fn tlvs_to_json(tlvs: &Tlvs) -> Value {
    tlvs.iter()
        .map(|t| json!({"tag": t.tag.get(), "name": t.tag.name(), "value_hex": to_hex(t.value)}))
        .collect()
}

pub(crate) fn reply_to_json(r: &Reply) -> Value {
    json!({
        "command_id": r.command_id.get(),
        "command_name": r.command_id.name(),
        "command_status": r.command_status.get(),
        "status_name": r.command_status.name(),
        "sequence_number": r.sequence_number,
    })
}

/// `{"error":{...}}` for a PDU that did not decode.
pub(crate) fn decode_error_to_json(e: &DecodeError) -> Value {
    let kind = match e.kind() {
        smpp_codec::ErrorKind::Incomplete => "incomplete",
        smpp_codec::ErrorKind::Invalid => "invalid",
    };
    json!({"error": {
        "kind": kind,
        "message": e.to_string(),
        "reply": e.reply().as_ref().map(reply_to_json),
        "then": e.then().as_str(),
    }})
}

/// `{"error":{...}}` for input that is not even a PDU candidate (bad hex, bad JSON).
pub(crate) fn input_error_to_json(message: &str) -> Value {
    json!({"error": {"kind": "invalid", "message": message, "reply": null, "then": "continue"}})
}

/// A list being filled: its field name and the items so far.
type OpenList = Option<(&'static str, Vec<Value>)>;

/// Collects visited fields into a JSON object, nesting lists of objects.
#[derive(Default)]
struct JsonFields {
    stack: Vec<(Map<String, Value>, OpenList)>,
    current: Map<String, Value>,
    list: OpenList,
}

impl JsonFields {
    fn finish(self) -> Map<String, Value> {
        self.current
    }
}

/// A C-Octet String as a JSON string when it is UTF-8, else `{"hex": ".."}` so nothing is lost.
fn c_str_value(v: &[u8]) -> Value {
    match std::str::from_utf8(v) {
        Ok(s) => json!(s),
        Err(_) => json!({"hex": to_hex(v)}),
    }
}

impl FieldVisitor for JsonFields {
    fn int(&mut self, name: &'static str, value: u32, _: u8) {
        self.current.insert(name.into(), json!(value));
    }
    fn c_str(&mut self, name: &'static str, value: &[u8]) {
        self.current.insert(name.into(), c_str_value(value));
    }
    fn octets(&mut self, name: &'static str, value: &[u8]) {
        self.current.insert(name.into(), json!(to_hex(value)));
    }
    fn begin_list(&mut self, name: &'static str, len: usize) {
        self.list = Some((name, Vec::with_capacity(len)));
    }
    fn begin_item(&mut self) {
        let outer = std::mem::take(&mut self.current);
        let list = self.list.take();
        self.stack.push((outer, list));
    }
    fn end_item(&mut self) {
        let item = std::mem::take(&mut self.current);
        if let Some((outer, mut list)) = self.stack.pop() {
            self.current = outer;
            if let Some((_, items)) = list.as_mut() {
                items.push(Value::Object(item));
            }
            self.list = list;
        }
    }
    fn end_list(&mut self) {
        if let Some((name, items)) = self.list.take() {
            self.current.insert(name.into(), Value::Array(items));
        }
    }
}

/// Reads field values out of a JSON object.
struct JsonSource {
    map: Map<String, Value>,
    path: String,
}

impl JsonSource {
    fn new(map: Map<String, Value>, path: String) -> Self {
        Self { map, path }
    }

    fn name(&self, field: &str) -> String {
        if self.path.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.path)
        }
    }

    fn take(&mut self, field: &'static str) -> Option<&Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }
}

impl FieldSource for JsonSource {
    fn int(&mut self, field: &'static str) -> Result<Option<u32>, BuildError> {
        let name = self.name(field);
        match self.take(field) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| BuildError::new(name, format!("expected an integer, got {v}"))),
        }
    }

    fn c_str(&mut self, field: &'static str) -> Result<Option<Bytes>, BuildError> {
        let name = self.name(field);
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(Bytes::copy_from_slice(s.as_bytes()))),
            Some(Value::Object(o)) if o.contains_key("hex") => {
                let h = o["hex"].as_str().unwrap_or_default();
                from_hex(h).map(|b| Some(b.into())).map_err(|e| BuildError::new(name, e))
            }
            Some(v) => Err(BuildError::new(name, format!("expected a string, got {v}"))),
        }
    }

    fn octets(&mut self, field: &'static str) -> Result<Option<Bytes>, BuildError> {
        let name = self.name(field);
        match self.take(field) {
            None => Ok(None),
            Some(Value::String(s)) => {
                from_hex(s).map(|b| Some(b.into())).map_err(|e| BuildError::new(name, e))
            }
            Some(v) => Err(BuildError::new(name, format!("expected a hex string, got {v}"))),
        }
    }

    fn list(
        &mut self,
        field: &'static str,
    ) -> Result<Option<Vec<Box<dyn FieldSource>>>, BuildError> {
        let name = self.name(field);
        let Some(v) = self.take(field) else {
            return Ok(None);
        };
        let Some(items) = v.as_array().cloned() else {
            return Err(BuildError::new(name, "expected a list of objects"));
        };
        let mut out: Vec<Box<dyn FieldSource>> = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Value::Object(map) = item else {
                return Err(BuildError::new(format!("{name}[{i}]"), "expected an object"));
            };
            out.push(Box::new(JsonSource::new(map, format!("{name}[{i}]"))));
        }
        Ok(Some(out))
    }
}

/// The field names a built PDU has, top level and per list, to report misspelt JSON keys
/// instead of silently defaulting them.
#[derive(Default)]
struct FieldNames {
    top: HashSet<&'static str>,
    items: HashSet<&'static str>,
    depth: usize,
}

impl FieldVisitor for FieldNames {
    fn int(&mut self, name: &'static str, _: u32, _: u8) {
        self.add(name);
    }
    fn c_str(&mut self, name: &'static str, _: &[u8]) {
        self.add(name);
    }
    fn octets(&mut self, name: &'static str, _: &[u8]) {
        self.add(name);
    }
    fn begin_list(&mut self, name: &'static str, _: usize) {
        self.add(name);
    }
    fn begin_item(&mut self) {
        self.depth += 1;
    }
    fn end_item(&mut self) {
        self.depth -= 1;
    }
    fn end_list(&mut self) {}
}

impl FieldNames {
    fn add(&mut self, name: &'static str) {
        if self.depth == 0 {
            self.top.insert(name);
        } else {
            self.items.insert(name);
        }
    }

    fn check(&self, fields: &Map<String, Value>) -> Result<(), BuildError> {
        for (key, value) in fields {
            if !self.top.contains(key.as_str()) {
                return Err(BuildError::new(key.as_str(), "not a field of this PDU"));
            }
            for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                for k in item.as_object().into_iter().flat_map(Map::keys) {
                    if !self.items.contains(k.as_str()) {
                        return Err(BuildError::new(
                            format!("{key}[{i}].{k}"),
                            "not a field of this entry",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn get_u32(obj: &Map<String, Value>, key: &str) -> Result<Option<u32>, BuildError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().and_then(|n| u32::try_from(n).ok()).map(Some).ok_or_else(|| {
            BuildError::new(key, format!("expected an unsigned 32-bit integer, got {v}"))
        }),
    }
}

fn command_id_of(obj: &Map<String, Value>) -> Result<CommandId, BuildError> {
    if let Some(id) = get_u32(obj, "command_id")? {
        return Ok(CommandId(id));
    }
    let name = obj
        .get("command_name")
        .and_then(Value::as_str)
        .ok_or_else(|| BuildError::new("command_id", "give command_id or command_name"))?;
    CommandId::from_name(name)
        .ok_or_else(|| BuildError::new("command_name", format!("unknown command {name:?}")))
}

fn command_status_of(obj: &Map<String, Value>) -> Result<CommandStatus, BuildError> {
    if let Some(s) = get_u32(obj, "command_status")? {
        return Ok(CommandStatus(s));
    }
    match obj.get("status_name").and_then(Value::as_str) {
        None => Ok(CommandStatus::ESME_ROK),
        Some(n) => CommandStatus::from_name(n)
            .ok_or_else(|| BuildError::new("status_name", format!("unknown status {n:?}"))),
    }
}

fn tlvs_of(obj: &Map<String, Value>) -> Result<Tlvs, BuildError> {
    let Some(list) = obj.get("tlvs").filter(|v| !v.is_null()) else {
        return Ok(Tlvs::new());
    };
    let items = list.as_array().ok_or_else(|| BuildError::new("tlvs", "expected a list"))?;
    let mut b = Tlvs::builder();
    for (i, t) in items.iter().enumerate() {
        let at = format!("tlvs[{i}]");
        let tag =
            match (t.get("tag").and_then(Value::as_u64), t.get("name").and_then(Value::as_str)) {
                (Some(n), _) => u16::try_from(n).map_err(|_| {
                    BuildError::new(format!("{at}.tag"), format!("{n} is not a 16-bit tag"))
                })?,
                (None, Some(name)) => Tag::from_name(name)
                    .ok_or_else(|| {
                        BuildError::new(format!("{at}.name"), format!("unknown TLV {name:?}"))
                    })?
                    .get(),
                (None, None) => return Err(BuildError::new(format!("{at}.tag"), "missing")),
            };
        let hex = t.get("value_hex").and_then(Value::as_str).unwrap_or("");
        let value = from_hex(hex).map_err(|e| BuildError::new(format!("{at}.value_hex"), e))?;
        b = b
            .push(Tag(tag), &value)
            .map_err(|e| BuildError::new(format!("{at}.value_hex"), e.to_string()))?;
    }
    Ok(b.build())
}

/// Builds a PDU from its JSON object. command_length, if given, is ignored (recomputed).
pub(crate) fn pdu_from_json(v: &Value) -> Result<Pdu, BuildError> {
    let obj = v.as_object().ok_or_else(|| BuildError::new("(top)", "expected a JSON object"))?;
    let command_id = command_id_of(obj)?;
    let status = command_status_of(obj)?;
    let seq = get_u32(obj, "sequence_number")?.unwrap_or(1);
    let body_present = obj.get("body_present").and_then(Value::as_bool).unwrap_or(true);
    let tlvs = tlvs_of(obj)?;
    let fields = match obj.get("fields") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(other) => {
            return Err(BuildError::new("fields", format!("expected an object, got {other}")))
        }
    };
    let mut src = JsonSource::new(fields.clone(), String::new());
    let pdu = Pdu::from_fields(command_id, status, seq, body_present, tlvs, &mut src)?;
    let mut names = FieldNames::default();
    pdu.body.visit_fields(&mut names);
    names.check(&fields)?;
    Ok(pdu)
}
