//! `GET /v1/reports/billing` (JSON or CSV) and `GET /v1/messages/{id}/audit`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use smppd_store::{AuditEvent, BatchView, BillingRow, MessageView, Millis};

use super::api::{auth, blocking, parse_id, Reply};
use super::ApiError;
use crate::app::App;
use crate::clock::{parse_rfc3339, rfc3339};
use crate::metrics::status_label;

/// The CSV columns, in order; also the JSON keys of a row.
const COLUMNS: [&str; 10] = [
    "carrier",
    "class",
    "messages",
    "segments_submitted",
    "billable_segments",
    "delivered",
    "undeliverable",
    "expired",
    "failed",
    "rejected",
];

/// An RFC 3339 query parameter. A `+` in a query string arrives as a space (form
/// encoding), so `+09:00` written unencoded is put back.
fn time_param(q: &HashMap<String, String>, key: &str) -> Result<Millis, ApiError> {
    let raw = q.get(key).ok_or_else(|| ApiError::field(key, "is required (RFC 3339)"))?;
    parse_rfc3339(raw)
        .or_else(|e| parse_rfc3339(&raw.replace(' ', "+")).map_err(|_| e))
        .map_err(|r| ApiError::field(key, r))
}

fn wants_csv(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<bool, ApiError> {
    match q.get("format").map(String::as_str) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(other) => Err(ApiError::field("format", format!("{other:?}: csv or json"))),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"))),
    }
}

/// `GET /v1/reports/billing?from=&to=[&format=csv]`: messages created in `[from, to)` per
/// carrier and class. CSV with `format=csv` or `Accept: text/csv`.
pub(super) async fn billing(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    auth(&app, &headers)?;
    let (from, to) = (time_param(&q, "from")?, time_param(&q, "to")?);
    if to <= from {
        return Err(ApiError::field("to", "must be after from"));
    }
    let csv = wants_csv(&q, &headers)?;
    let store = app.store.clone();
    let rows = blocking(move || store.billing_report(from, to)).await?;
    if csv {
        let body = billing_csv(&rows);
        return Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response());
    }
    let total = rows.iter().fold(BillingRow::default(), add);
    let body = json!({
        "from": rfc3339(from),
        "to": rfc3339(to),
        "rows": rows,
        "total": {
            "messages": total.messages,
            "segments_submitted": total.segments_submitted,
            "billable_segments": total.billable_segments,
            "delivered": total.delivered,
            "undeliverable": total.undeliverable,
            "expired": total.expired,
            "failed": total.failed,
            "rejected": total.rejected,
        },
    });
    Ok((StatusCode::OK, Json(body)).into_response())
}

fn add(mut t: BillingRow, r: &BillingRow) -> BillingRow {
    t.messages += r.messages;
    t.segments_submitted += r.segments_submitted;
    t.billable_segments += r.billable_segments;
    t.delivered += r.delivered;
    t.undeliverable += r.undeliverable;
    t.expired += r.expired;
    t.failed += r.failed;
    t.rejected += r.rejected;
    t
}

fn billing_csv(rows: &[BillingRow]) -> String {
    let mut out = COLUMNS.join(",");
    out.push_str("\r\n");
    for r in rows {
        // Carrier and class names are configuration keys (no commas or quotes).
        let _ = write!(
            out,
            "{},{},{},{},{},{},{},{},{},{}\r\n",
            r.carrier,
            r.class,
            r.messages,
            r.segments_submitted,
            r.billable_segments,
            r.delivered,
            r.undeliverable,
            r.expired,
            r.failed,
            r.rejected
        );
    }
    out
}

/// `GET /v1/messages/{id}/audit`: who created (and approved) it, when it was queued, held,
/// re-routed, submitted (each segment's message_id and status) and what the receipts said,
/// oldest first.
pub(super) async fn audit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    auth(&app, &headers)?;
    let id = parse_id(&id)?;
    let store = app.store.clone();
    let (view, events, batch) = blocking(move || {
        let Some(view) = store.message(id)? else { return Ok((None, Vec::new(), None)) };
        let events = store.audit_events(id)?;
        let batch = view.batch_id.map(|b| store.batch(b)).transpose()?.flatten();
        Ok((Some(view), events, batch))
    })
    .await?;
    let view =
        view.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, format!("no message {id}")))?;
    let mut entries = created(&view, batch.as_ref());
    entries.extend(events.iter().map(event_entry));
    entries.extend(ledger_entries(&view));
    entries.push((
        view.updated_at,
        json!({"event": "status", "status": view.status.as_str(), "reason": view.reason}),
    ));
    // Stable: same-time entries keep the order above (created before its events, …).
    entries.sort_by_key(|(at, _)| *at);
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|(at, mut e)| {
            e["at"] = json!(rfc3339(at));
            e
        })
        .collect();
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": view.id.to_string(),
            "to": view.to,
            "class": view.class,
            "carrier": view.carrier,
            "status": view.status.as_str(),
            "entries": entries,
        })),
    ))
}

/// The message's creation, and its batch's workflow (maker, submitter, checker).
fn created(view: &MessageView, batch: Option<&BatchView>) -> Vec<(Millis, Value)> {
    let mut out = Vec::new();
    if let Some(b) = batch {
        let id = b.id.to_string();
        out.push((
            b.created_at,
            json!({"event": "batch_created", "actor": b.created_by, "batch": id}),
        ));
        if let (Some(by), Some(at)) = (&b.edited_by, b.edited_at) {
            out.push((at, json!({"event": "batch_edited", "actor": by, "batch": id})));
        }
        if let (Some(by), Some(at)) = (&b.submitted_by, b.submitted_at) {
            out.push((at, json!({"event": "batch_submitted", "actor": by, "batch": id})));
        }
        if let (Some(by), Some(at)) = (&b.approved_by, b.approved_at) {
            out.push((at, json!({"event": "batch_approved", "actor": by, "batch": id})));
        }
    }
    out.push((
        view.created_at,
        json!({"event": "created", "actor": view.api_key, "client_ref": view.client_ref}),
    ));
    out
}

fn event_entry(e: &AuditEvent) -> (Millis, Value) {
    let mut detail: Value =
        e.detail.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or(Value::Null);
    if let Some(until) = detail.get("until").and_then(Value::as_i64) {
        detail["until"] = json!(rfc3339(until));
    }
    if let Some(status) = detail.get("status").and_then(Value::as_u64) {
        detail["status"] = json!(status_label(status as u32));
    }
    (e.at, json!({"event": e.kind, "actor": e.actor, "detail": detail}))
}

/// Each segment's last submit and its receipt, from the ledger.
fn ledger_entries(view: &MessageView) -> Vec<(Millis, Value)> {
    let mut out = Vec::new();
    for s in &view.segment_details {
        if let Some(at) = s.submitted_at.or(s.sent_at) {
            let status = s.submit_status.map_or_else(|| "ok".to_string(), status_label);
            out.push((
                at,
                json!({"event": "submitted", "segment": s.index, "account": s.account,
                       "message_id": s.message_id, "state": s.state, "status": status}),
            ));
        }
        if let (Some(state), Some(at)) = (&s.receipt_state, s.receipt_at) {
            out.push((
                at,
                json!({"event": "receipt", "segment": s.index, "state": state,
                       "error": s.receipt_error}),
            ));
        }
    }
    out
}
