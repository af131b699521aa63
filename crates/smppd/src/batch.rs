//! CSV batches: the upload checked row by row into a [`NewBatch`] (smpp-policy reads the CSV
//! in UTF-8 or Shift_JIS and fills in the template; here each row is also routed, segmented
//! with its carrier's rules and looked up in the lists), and the rows of an approved batch
//! turned into messages.
//!
//! What the checker approves is what is sent: the carrier, segment and billable counts shown
//! by the preview are the ones stored with the rows and used for the messages.

use base64::Engine as _;
use serde_json::Value;
use smpp_policy::csv_batch::{validate_batch, BatchMessage, RowErrors};
use smpp_policy::Template;
use smppd_store::{BatchRow, BatchView, MessageStatus, Millis, NewBatch, NewMessage};

use crate::app::App;
use crate::clock::parse_rfc3339;
use crate::intake::{check_sender, FieldError};
use crate::lists::Lists;
use crate::policy::Verdict;

/// The keys a batch object may have.
const KEYS: [&str; 9] = [
    "name",
    "class",
    "template",
    "csv",
    "csv_base64",
    "number_column",
    "from",
    "send_at",
    "deadline",
];

/// The number column when the request names none.
pub const DEFAULT_NUMBER_COLUMN: &str = "phone";

/// A batch request, its fields checked; the rows are not read yet.
#[derive(Debug, Clone)]
pub struct BatchRequest {
    /// Name.
    pub name: String,
    /// Class.
    pub class: String,
    /// Template text (parsed once more by [`check`]).
    pub template: String,
    /// The CSV file's bytes (UTF-8 or Shift_JIS).
    pub csv: Vec<u8>,
    /// Number column.
    pub number_column: String,
    /// Sender id.
    pub from: String,
    /// Not sent before.
    pub send_at: Option<Millis>,
    /// Deadline.
    pub deadline: Option<Millis>,
}

/// Reads the JSON body of `POST /v1/batches` (or `PUT /v1/batches/{id}`).
pub fn parse_request(app: &App, v: &Value) -> Result<BatchRequest, FieldError> {
    let obj = v.as_object().ok_or_else(|| FieldError::new("body", "must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(FieldError::new(
            k.as_str(),
            format!("unknown field (expected one of {})", KEYS.join(", ")),
        ));
    }
    let text = |k: &str| -> Result<Option<String>, FieldError> {
        match obj.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FieldError::new(k, "must be a string")),
        }
    };
    let required = |k: &str| text(k)?.ok_or_else(|| FieldError::new(k, "is required"));
    let name = required("name")?;
    if name.trim().is_empty() || name.chars().count() > 200 {
        return Err(FieldError::new("name", "1 to 200 characters"));
    }
    let class = required("class")?;
    app.policy.class_known(&class).map_err(|r| FieldError::new("class", r))?;
    let template = required("template")?;
    let from = required("from")?;
    check_sender(&from).map_err(|r| FieldError::new("from", r))?;
    let csv = csv_bytes(text("csv")?, text("csv_base64")?)?;
    let number_column = text("number_column")?.unwrap_or_else(|| DEFAULT_NUMBER_COLUMN.into());
    let time_of = |k: &str| -> Result<Option<Millis>, FieldError> {
        text(k)?.map(|s| parse_rfc3339(&s).map_err(|r| FieldError::new(k, r))).transpose()
    };
    let (send_at, deadline) = (time_of("send_at")?, time_of("deadline")?);
    if let (Some(s), Some(d)) = (send_at, deadline) {
        if d <= s {
            return Err(FieldError::new("deadline", "must be after send_at"));
        }
    }
    Ok(BatchRequest { name, class, template, csv, number_column, from, send_at, deadline })
}

/// Exactly one of `csv` (text) and `csv_base64` (the file's bytes, e.g. Shift_JIS).
fn csv_bytes(csv: Option<String>, b64: Option<String>) -> Result<Vec<u8>, FieldError> {
    match (csv, b64) {
        (Some(_), Some(_)) => {
            Err(FieldError::new("csv_base64", "give csv or csv_base64, not both"))
        }
        (Some(text), None) => Ok(text.into_bytes()),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| FieldError::new("csv_base64", format!("not base64: {e}"))),
        (None, None) => Err(FieldError::new("csv", "is required (or csv_base64)")),
    }
}

/// The rows as smpp-policy checked them, before the lists are consulted.
pub struct Checked {
    request: BatchRequest,
    results: Vec<Result<BatchMessage, RowErrors>>,
}

impl Checked {
    /// The numbers of the rows that passed so far: to be looked up in the lists.
    pub fn numbers(&self) -> Vec<String> {
        self.results.iter().filter_map(|r| r.as_ref().ok().map(|m| m.to.clone())).collect()
    }
}

/// Reads the CSV and checks every row: number, template fields, length after filling in
/// (against the routed carrier's maximum and the class's), duplicates. A problem with the
/// file as a whole (not CSV, no number column, a placeholder that is not a column) is a
/// [`FieldError`].
pub fn check(app: &App, request: BatchRequest) -> Result<Checked, FieldError> {
    let template = Template::parse(&request.template)
        .map_err(|e| FieldError::new("template", e.to_string()))?;
    let (header, rows) =
        smpp_policy::read_rows(&request.csv).map_err(|e| FieldError::new("csv", e.to_string()))?;
    let class_max = app.policy.max_chars(&request.class);
    let max_chars = |to: &str| {
        let carrier = app.policy.route(to, None).ok();
        let carrier_max = carrier.and_then(|c| app.profile(&c).map(|p| p.max_chars));
        carrier_max.unwrap_or(660).min(class_max.unwrap_or(usize::MAX))
    };
    let results = validate_batch(&header, &rows, &template, &request.number_column, max_chars)
        .map_err(|e| {
            let field = match e {
                smpp_policy::csv_batch::BatchError::NoNumberColumn { .. } => "number_column",
                _ => "template",
            };
            FieldError::new(field, e.to_string())
        })?;
    Ok(Checked { request, results })
}

/// The batch to store: every row routed, segmented and checked against the lists.
pub fn rows(app: &App, checked: Checked, lists: &Lists) -> NewBatch {
    let class = checked.request.class.clone();
    let rows = checked
        .results
        .into_iter()
        .map(|r| match r {
            Ok(m) => row(app, &class, m, lists),
            Err(e) => BatchRow {
                line: e.line as u32,
                to: None,
                text: None,
                carrier: None,
                segments: 0,
                billable: 0,
                errors: e.errors.iter().map(ToString::to_string).collect(),
            },
        })
        .collect();
    let r = checked.request;
    NewBatch {
        name: r.name,
        class: r.class,
        from: r.from,
        template: r.template,
        number_column: r.number_column,
        send_at: r.send_at,
        deadline: r.deadline,
        rows,
    }
}

fn row(app: &App, class: &str, m: BatchMessage, lists: &Lists) -> BatchRow {
    let mut errors = Vec::new();
    let on_lists = lists.get(&m.to).cloned().unwrap_or_default();
    if let Some(reason) = app.policy.list_reject(class, &m.to, on_lists) {
        errors.push(reason);
    }
    let carrier = app.policy.route(&m.to, None).unwrap_or_else(|e| {
        errors.push(e);
        String::new()
    });
    let seg = app.profile(&carrier).map(|p| smpp_sms::segment(&m.text, p, 0, false));
    let (segments, billable) = match seg {
        Some(Ok(s)) => (s.parts.len() as u32, s.billable),
        Some(Err(e)) => {
            errors.push(e.to_string());
            (0, 0)
        }
        None => (0, 0),
    };
    BatchRow {
        line: m.line as u32,
        to: Some(m.to),
        text: Some(m.text),
        carrier: Some(carrier),
        segments,
        billable,
        errors,
    }
}

/// The messages of an approved (or approval-free) batch: one per valid row, decided now
/// (its `send_at`, quiet hours, deadline, the lists as they are now). The idempotency key
/// `batch:<id>:<line>` makes a second enqueue of the same row impossible.
pub fn messages(
    app: &App,
    batch: &BatchView,
    rows: Vec<BatchRow>,
    lists: &Lists,
    now: Millis,
) -> Vec<NewMessage> {
    let priority = app.policy.priority(&batch.class);
    rows.into_iter()
        .filter_map(|r| {
            let (to, text, carrier) = (r.to?, r.text?, r.carrier?);
            let on_lists = lists.get(&to).cloned().unwrap_or_default();
            let (verdict, _) =
                app.policy.decide(&batch.class, &to, now, batch.send_at, batch.deadline, on_lists);
            let (status, not_before, reason) = match verdict {
                Verdict::Send => (MessageStatus::Queued, now, None),
                Verdict::Hold { until, reason } => (MessageStatus::Held, until, Some(reason)),
                Verdict::Reject { reason } => (MessageStatus::Rejected, now, Some(reason)),
            };
            Some(NewMessage {
                api_key: batch.created_by.clone(),
                idempotency_key: Some(format!("batch:{}:{}", batch.id, r.line)),
                client_ref: Some(format!("batch-{}-line-{}", batch.id, r.line)),
                to,
                from: batch.from.clone(),
                text,
                class: batch.class.clone(),
                carrier,
                segments: r.segments,
                billable: r.billable,
                status,
                not_before,
                deadline: batch.deadline,
                dlr: true,
                priority,
                reason,
                created_at: now,
                batch_id: Some(batch.id),
            })
        })
        .collect()
}
