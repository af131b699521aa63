//! From an API request to a [`NewMessage`]: every field checked (the error names it), the
//! number normalised, the carrier chosen, the text segmented with that carrier's rules, and
//! the policy's send/hold/reject decision taken, before anything is stored.

use serde_json::Value;
use smppd_store::{MessageStatus, Millis, NewMessage};

use crate::app::App;
use crate::clock::parse_rfc3339;
use crate::lists::Lists;
use crate::policy::Verdict;

/// A bad field: which, and why. Rendered as a 400 with `{"error":{"field","reason"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted/indexed path (`to`, `messages[3].text`).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl FieldError {
    /// A field error.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// The keys a message object may have.
const KEYS: [&str; 9] =
    ["to", "from", "text", "class", "client_ref", "send_at", "deadline", "dlr", "carrier"];

/// The E.164 recipient of a message object, when it has a valid one: the numbers of a
/// request are looked up in the lists (one read) before [`message`] decides.
pub fn recipient(app: &App, v: &Value) -> Option<String> {
    v.get("to").and_then(Value::as_str).and_then(|to| app.policy.normalise_number(to).ok())
}

/// Checks one message object. `path` prefixes field names (`messages[3].`). `lists` holds
/// what the suppression and opt-out lists say about the request's recipients (a number
/// missing from it is on neither).
pub fn message(
    app: &App,
    api_key: &str,
    idempotency_key: Option<&str>,
    v: &Value,
    path: &str,
    now: Millis,
    lists: &Lists,
) -> Result<NewMessage, FieldError> {
    let field = |k: &str| format!("{path}{k}");
    let obj = v
        .as_object()
        .ok_or_else(|| FieldError::new(path.trim_end_matches('.'), "must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(FieldError::new(
            field(k),
            format!("unknown field (expected one of {})", KEYS.join(", ")),
        ));
    }
    let text_of = |k: &str, required: bool| -> Result<Option<String>, FieldError> {
        match obj.get(k) {
            None | Some(Value::Null) if required => Err(FieldError::new(field(k), "is required")),
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FieldError::new(field(k), "must be a string")),
        }
    };
    let to_raw = text_of("to", true)?.unwrap_or_default();
    let to = app.policy.normalise_number(&to_raw).map_err(|r| FieldError::new(field("to"), r))?;
    let from = text_of("from", true)?.unwrap_or_default();
    check_sender(&from).map_err(|r| FieldError::new(field("from"), r))?;
    let text = text_of("text", true)?.unwrap_or_default();
    if text.is_empty() {
        return Err(FieldError::new(field("text"), "must not be empty"));
    }
    let class = text_of("class", true)?.unwrap_or_default();
    app.policy.class_known(&class).map_err(|r| FieldError::new(field("class"), r))?;
    let client_ref = text_of("client_ref", false)?;
    if client_ref.as_ref().is_some_and(|r| r.len() > 128) {
        return Err(FieldError::new(field("client_ref"), "at most 128 characters"));
    }
    let time_of = |k: &str| -> Result<Option<Millis>, FieldError> {
        text_of(k, false)?
            .map(|s| parse_rfc3339(&s).map_err(|r| FieldError::new(field(k), r)))
            .transpose()
    };
    let send_at = time_of("send_at")?;
    let deadline = time_of("deadline")?;
    let dlr = match obj.get("dlr") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(FieldError::new(field("dlr"), "must be true or false")),
    };
    let explicit = text_of("carrier", false)?;
    let carrier = app
        .policy
        .route(&to, explicit.as_deref())
        .map_err(|r| FieldError::new(field("carrier"), r))?;
    let profile =
        app.profile(&carrier).ok_or_else(|| FieldError::new(field("carrier"), "no profile"))?;
    let seg = smpp_sms::segment(&text, profile, 0, false)
        .map_err(|e| FieldError::new(field("text"), e.to_string()))?;
    if let Some(max) = app.policy.max_chars(&class).filter(|&m| seg.chars > m) {
        return Err(FieldError::new(
            field("text"),
            format!(
                "text is {} characters long, over the {max}-character maximum for class {class}",
                seg.chars
            ),
        ));
    }
    let on_lists = lists.get(&to).cloned().unwrap_or_default();
    let (verdict, _) = app.policy.decide(&class, &to, now, send_at, deadline, on_lists);
    let (status, not_before, reason) = match verdict {
        Verdict::Send => (MessageStatus::Queued, now, None),
        Verdict::Hold { until, reason } => (MessageStatus::Held, until, Some(reason)),
        Verdict::Reject { reason } => (MessageStatus::Rejected, now, Some(reason)),
    };
    Ok(NewMessage {
        api_key: api_key.to_string(),
        idempotency_key: idempotency_key.map(str::to_string).or_else(|| client_ref.clone()),
        client_ref,
        to,
        from,
        text,
        class: class.clone(),
        carrier,
        segments: seg.parts.len() as u32,
        billable: seg.billable,
        status,
        not_before,
        deadline,
        dlr,
        priority: app.policy.priority(&class),
        reason,
        created_at: now,
        batch_id: None,
    })
}

/// A sender id: up to 11 alphanumeric characters, or up to 20 digits (smpp34.md §7.4).
pub fn check_sender(from: &str) -> Result<(), String> {
    if from.is_empty() {
        return Err("must not be empty".into());
    }
    let digits = from.strip_prefix('+').unwrap_or(from);
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        return if digits.len() <= 20 { Ok(()) } else { Err("at most 20 digits".into()) };
    }
    if from.len() <= 11 && from.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ') {
        Ok(())
    } else {
        Err("an alphanumeric sender id is at most 11 ASCII letters and digits".into())
    }
}
