//! `/v1/batches`: CSV batches with templates, their preview, and the maker-checker workflow
//! (submit, approve, reject, edit, pause, resume, cancel).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use smppd_store::{BatchAction, BatchId, BatchOutcome, BatchRow, BatchView, NewBatch, NewMessage};

use super::api::{auth, blocking, check_capacity, field_error, lookup_lists, parse_json, Reply};
use super::ApiError;
use crate::app::App;
use crate::batch;
use crate::clock::rfc3339;

/// Rows with errors listed in a batch's JSON; the counts cover all of them.
const LISTED_ROW_ERRORS: usize = 100;
/// Most rendered messages a preview shows.
const MAX_PREVIEW: usize = 100;

fn parse_batch_id(id: &str) -> Result<BatchId, ApiError> {
    id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a batch id")))
}

fn no_batch(id: BatchId) -> ApiError {
    ApiError::status(StatusCode::NOT_FOUND, format!("no batch {id}"))
}

/// Reads and checks an upload (create or edit) into the batch to store.
async fn checked_batch(app: &App, body: &[u8]) -> Result<NewBatch, ApiError> {
    let v = parse_json(body)?;
    let request = batch::parse_request(app, &v).map_err(field_error)?;
    let checked = batch::check(app, request).map_err(field_error)?;
    let lists = lookup_lists(app, checked.numbers()).await?;
    Ok(batch::rows(app, checked, &lists))
}

/// `POST /v1/batches`: stored as a draft, every row checked; 201 with the row errors.
pub(super) async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Reply {
    let by = auth(&app, &headers)?;
    let new = checked_batch(&app, &body).await?;
    let errors = row_errors(&new.rows);
    let (store, at, maker) = (app.store.clone(), app.now(), by.clone());
    let id = blocking(move || store.create_batch(&new, &maker, at)).await?;
    tracing::info!(batch = id, %by, invalid_rows = errors.len(), "batch created");
    let view = load(&app, id).await?;
    Ok((StatusCode::CREATED, Json(batch_json(&view, errors))))
}

fn row_errors(rows: &[BatchRow]) -> Vec<Value> {
    rows.iter()
        .filter(|r| !r.errors.is_empty())
        .map(|r| json!({"line": r.line, "errors": r.errors}))
        .collect()
}

async fn load(app: &App, id: BatchId) -> Result<BatchView, ApiError> {
    let store = app.store.clone();
    blocking(move || store.batch(id)).await?.ok_or_else(|| no_batch(id))
}

/// A batch for the API: workflow record, row counts, message counts by status.
fn batch_json(b: &BatchView, row_errors: Vec<Value>) -> Value {
    let time = |t: Option<i64>| t.map(rfc3339);
    let messages: serde_json::Map<String, Value> =
        b.messages.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect();
    json!({
        "id": b.id.to_string(),
        "name": b.name,
        "class": b.class,
        "from": b.from,
        "template": b.template,
        "number_column": b.number_column,
        "status": b.status.as_str(),
        "send_at": time(b.send_at),
        "deadline": time(b.deadline),
        "rows": {"total": b.rows_total, "valid": b.rows_valid, "invalid": b.rows_total - b.rows_valid},
        "created_by": b.created_by,
        "created_at": rfc3339(b.created_at),
        "edited_by": b.edited_by,
        "edited_at": time(b.edited_at),
        "submitted_by": b.submitted_by,
        "submitted_at": time(b.submitted_at),
        "approved_by": b.approved_by,
        "approved_at": time(b.approved_at),
        "rejected_by": b.rejected_by,
        "rejected_at": time(b.rejected_at),
        "reject_reason": b.reject_reason,
        "cancelled_by": b.cancelled_by,
        "cancelled_at": time(b.cancelled_at),
        "updated_at": rfc3339(b.updated_at),
        "revision": b.revision,
        "messages": messages,
        "row_errors": row_errors,
    })
}

/// `GET /v1/batches/{id}`: progress (messages by status) and the first row errors.
pub(super) async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    auth(&app, &headers)?;
    let id = parse_batch_id(&id)?;
    let view = load(&app, id).await?;
    let store = app.store.clone();
    let bad = blocking(move || store.batch_rows(id, false, LISTED_ROW_ERRORS)).await?;
    Ok((StatusCode::OK, Json(batch_json(&view, row_errors(&bad)))))
}

/// `GET /v1/batches/{id}/preview?limit=5`: the first rendered messages with carrier,
/// segments and billable count, and totals per carrier over every valid row.
pub(super) async fn preview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    auth(&app, &headers)?;
    let id = parse_batch_id(&id)?;
    let limit = match q.get("limit") {
        None => 5,
        Some(l) => l.parse().ok().filter(|n| (1..=MAX_PREVIEW).contains(n)).ok_or_else(|| {
            ApiError::field("limit", format!("must be a number from 1 to {MAX_PREVIEW}"))
        })?,
    };
    let view = load(&app, id).await?;
    let store = app.store.clone();
    let (rows, totals) =
        blocking(move || Ok((store.batch_rows(id, true, limit)?, store.batch_totals(id)?))).await?;
    let messages: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({"line": r.line, "to": r.to, "text": r.text, "carrier": r.carrier,
                   "segments": r.segments, "billable": r.billable})
        })
        .collect();
    let sum = |f: fn(&smppd_store::CarrierTotal) -> u64| totals.iter().map(f).sum::<u64>();
    let total = json!({"messages": sum(|t| t.messages), "segments": sum(|t| t.segments),
                       "billable": sum(|t| t.billable)});
    Ok((
        StatusCode::OK,
        Json(json!({
            "id": id.to_string(),
            "status": view.status.as_str(),
            "invalid_rows": view.rows_total - view.rows_valid,
            "messages": messages,
            "carriers": totals,
            "total": total,
        })),
    ))
}

/// `PUT /v1/batches/{id}`: new settings and file; a pending batch goes back to draft.
pub(super) async fn edit(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    let by = auth(&app, &headers)?;
    let id = parse_batch_id(&id)?;
    let new = checked_batch(&app, &body).await?;
    let errors = row_errors(&new.rows);
    apply(&app, id, BatchAction::Edit(new), &by).await?;
    let view = load(&app, id).await?;
    Ok((StatusCode::OK, Json(batch_json(&view, errors))))
}

/// `POST /v1/batches/{id}/{action}`: submit, approve, reject, pause, resume, cancel.
pub(super) async fn act(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Reply {
    let by = auth(&app, &headers)?;
    let id = parse_batch_id(&id)?;
    let action = match action.as_str() {
        "submit" => submit_action(&app, id).await?,
        "approve" => approve_action(&app, id, &body).await?,
        "reject" => BatchAction::Reject { reason: reject_reason(&body)? },
        "pause" => BatchAction::Pause,
        "resume" => BatchAction::Resume,
        "cancel" => BatchAction::Cancel,
        other => {
            return Err(ApiError::status(
                StatusCode::NOT_FOUND,
                format!("no action {other:?} (submit, approve, reject, pause, resume, cancel)"),
            ))
        }
    };
    let queued = match &action {
        BatchAction::Submit { messages, .. } | BatchAction::Approve { messages, .. } => {
            messages.len()
        }
        _ => 0,
    };
    let name = action.name();
    apply(&app, id, action, &by).await?;
    tracing::info!(batch = id, action = name, %by, queued, "batch workflow step");
    if queued > 0 || name == "resume" {
        app.backlog.fetch_add(queued as u64, Ordering::Relaxed);
        app.wake.notify_waiters();
    }
    let view = load(&app, id).await?;
    Ok((StatusCode::OK, Json(batch_json(&view, Vec::new()))))
}

/// Submit: straight to the queue when the class needs no approval.
async fn submit_action(app: &App, id: BatchId) -> Result<BatchAction, ApiError> {
    let view = load(app, id).await?;
    let requires_approval =
        app.policy.config().class(&view.class).map_or(true, |c| c.requires_approval);
    let messages = if requires_approval { Vec::new() } else { enqueue(app, &view).await? };
    Ok(BatchAction::Submit { requires_approval, messages, revision: view.revision })
}

/// Approve: the messages of the batch's current revision, which must be the one the checker
/// reviewed when the body names it (`{"revision": N}` from `GET /v1/batches/{id}`).
async fn approve_action(app: &App, id: BatchId, body: &[u8]) -> Result<BatchAction, ApiError> {
    let view = load(app, id).await?;
    if let Some(reviewed) = reviewed_revision(body)? {
        if reviewed != view.revision {
            return Err(changed(id, reviewed, view.revision));
        }
    }
    let messages = enqueue(app, &view).await?;
    Ok(BatchAction::Approve { messages, revision: view.revision })
}

fn reviewed_revision(body: &[u8]) -> Result<Option<u64>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match parse_json(body)?.get("revision") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_u64().filter(|r| *r >= 1).map(Some).ok_or_else(|| {
            ApiError::field("revision", "must be the batch's revision, a positive integer")
        }),
    }
}

fn changed(id: BatchId, prepared: u64, now: u64) -> ApiError {
    ApiError::status(
        StatusCode::CONFLICT,
        format!(
            "batch {id} was edited: it is at revision {now}, not {prepared}; \
             read it again before this step"
        ),
    )
}

/// The messages a batch puts in the queue, decided now.
async fn enqueue(app: &App, view: &BatchView) -> Result<Vec<NewMessage>, ApiError> {
    if view.rows_valid == 0 {
        return Err(ApiError::status(
            StatusCode::CONFLICT,
            format!("batch {} has no valid rows to send", view.id),
        ));
    }
    check_capacity(app, view.rows_valid as usize)?;
    let (store, id) = (app.store.clone(), view.id);
    let rows = blocking(move || store.batch_rows(id, true, usize::MAX)).await?;
    let numbers = rows.iter().filter_map(|r| r.to.clone()).collect();
    let lists = lookup_lists(app, numbers).await?;
    Ok(batch::messages(app, view, rows, &lists, app.now()))
}

fn reject_reason(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match parse_json(body)?.get("reason") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::field("reason", "must be a string")),
    }
}

/// Runs a workflow step and turns a refusal into its HTTP answer.
async fn apply(app: &App, id: BatchId, action: BatchAction, by: &str) -> Result<(), ApiError> {
    let name = action.name();
    let prepared = match &action {
        BatchAction::Submit { revision, .. } | BatchAction::Approve { revision, .. } => *revision,
        _ => 0,
    };
    let (store, at, who) = (app.store.clone(), app.now(), by.to_string());
    match blocking(move || store.batch_action(id, &action, &who, at)).await? {
        BatchOutcome::Applied(_) => Ok(()),
        BatchOutcome::NotFound => Err(no_batch(id)),
        BatchOutcome::Conflict(status) => Err(ApiError::status(
            StatusCode::CONFLICT,
            format!("batch {id} is {}: cannot {name} it", status.as_str()),
        )),
        BatchOutcome::Changed { revision } => Err(changed(id, prepared, revision)),
        BatchOutcome::SameOperator => Err(ApiError::status(
            StatusCode::FORBIDDEN,
            format!(
                "maker-checker: {by} created or edited batch {id} and cannot approve it; \
                 another API key must"
            ),
        )),
    }
}
