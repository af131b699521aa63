//! `/v1` handlers.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use smppd_store::{Accepted, CancelOutcome, MessageView, NewMessage, UnknownDecision};

use super::ApiError;
use crate::app::App;
use crate::clock::rfc3339;
use crate::intake::{self, FieldError};
use crate::lists::Lists;

pub(super) type Reply = Result<(StatusCode, Json<Value>), ApiError>;

/// The caller's API key name, from `Authorization: Bearer <key>`.
pub(super) fn auth(app: &App, headers: &HeaderMap) -> Result<String, ApiError> {
    let value = headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::status(StatusCode::UNAUTHORIZED, "missing Authorization: Bearer <api key>")
    })?;
    let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or_else(|| {
        ApiError::status(StatusCode::UNAUTHORIZED, "Authorization must be \"Bearer <api key>\"")
    })?;
    app.key_name(token.trim())
        .map(str::to_string)
        .ok_or_else(|| ApiError::status(StatusCode::FORBIDDEN, "unknown API key"))
}

pub(super) fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::field("body", format!("malformed JSON: {e}")))
}

pub(super) fn field_error(e: FieldError) -> ApiError {
    ApiError::field(e.field, e.reason)
}

pub(super) fn check_capacity(app: &App, n: usize) -> Result<(), ApiError> {
    if !app.accepting.load(Ordering::Relaxed) {
        return Err(ApiError::busy("shutting down", 30));
    }
    if app.backlog.load(Ordering::Relaxed) + n as u64 > app.config.server.max_backlog {
        return Err(ApiError::busy(
            format!(
                "queue is over its bound of {} messages; retry later",
                app.config.server.max_backlog
            ),
            5,
        ));
    }
    Ok(())
}

pub(super) async fn store_messages(
    app: &App,
    messages: Vec<NewMessage>,
) -> Result<Vec<Accepted>, ApiError> {
    let n = messages.len();
    let classes: Vec<String> = messages.iter().map(|m| m.class.clone()).collect();
    let accepted = app.accept.write(messages).await.map_err(|e| {
        tracing::error!(error = %e, "accept failed");
        ApiError::status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not store the message; nothing was accepted",
        )
    })?;
    for (class, a) in classes.iter().zip(&accepted) {
        if !a.duplicate {
            app.metrics.accepted.with_label_values(&[class]).inc();
        }
    }
    app.backlog.fetch_add(n as u64, Ordering::Relaxed);
    app.wake.notify_waiters();
    Ok(accepted)
}

fn accepted_json(a: &Accepted) -> Value {
    json!({"id": a.id.to_string(), "status": a.status.as_str(), "carrier": a.carrier, "segments": a.segments})
}

/// `POST /v1/messages`.
pub(super) async fn create(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Reply {
    let key = auth(&app, &headers)?;
    let v = parse_json(&body)?;
    check_capacity(&app, 1)?;
    let idem = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let lists = lookup_lists(&app, intake::recipient(&app, &v).into_iter().collect()).await?;
    let m = intake::message(&app, &key, idem, &v, "", app.now(), &lists).map_err(field_error)?;
    let a = store_messages(&app, vec![m]).await?;
    let a = a.first().ok_or_else(|| {
        ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, "store returned nothing")
    })?;
    Ok((StatusCode::ACCEPTED, Json(accepted_json(a))))
}

/// `POST /v1/messages:batch` `{"messages":[…]}`: valid items are stored in one transaction;
/// each item gets its own result.
pub(super) async fn create_batch(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let key = auth(&app, &headers)?;
    let v = parse_json(&body)?;
    let items = v
        .get("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::field("messages", "must be an array of message objects"))?;
    let max = app.config.server.max_batch;
    if items.len() > max {
        return Err(ApiError::status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} messages in one batch; at most {max}", items.len()),
        ));
    }
    check_capacity(&app, items.len())?;
    let numbers = items.iter().filter_map(|v| intake::recipient(&app, v)).collect();
    let lists = lookup_lists(&app, numbers).await?;
    let now = app.now();
    let checked: Vec<Result<NewMessage, FieldError>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            intake::message(&app, &key, None, item, &format!("messages[{i}]."), now, &lists)
        })
        .collect();
    let valid: Vec<NewMessage> = checked.iter().filter_map(|r| r.as_ref().ok().cloned()).collect();
    let mut stored = store_messages(&app, valid).await?.into_iter();
    let (mut ok, mut bad) = (0, 0);
    let results: Vec<Value> = checked
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Ok(_) => {
                ok += 1;
                let a = stored.next().map(|a| accepted_json(&a)).unwrap_or(Value::Null);
                json!({"index": i, "result": a})
            }
            Err(e) => {
                bad += 1;
                json!({"index": i, "error": {"field": e.field, "reason": e.reason}})
            }
        })
        .collect();
    Ok((StatusCode::ACCEPTED, Json(json!({"accepted": ok, "rejected": bad, "results": results}))))
}

/// What the lists say about `numbers`; a failure to read them refuses the request (500):
/// a message to a suppressed number must not slip through.
pub(super) async fn lookup_lists(app: &App, numbers: Vec<String>) -> Result<Lists, ApiError> {
    crate::lists::lookup(app, numbers).await.map_err(|e| {
        tracing::error!(error = %e, "list lookup failed");
        ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, "could not read the suppression lists")
    })
}

pub(super) fn parse_id(id: &str) -> Result<i64, ApiError> {
    id.parse().map_err(|_| ApiError::field("id", format!("{id:?} is not a message id")))
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> smppd_store::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(|e| {
            tracing::error!(error = %e, "store error");
            ApiError::status(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
        })
}

/// `GET /v1/messages/{id}`.
pub(super) async fn show(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    auth(&app, &headers)?;
    let id = parse_id(&id)?;
    let store = app.store.clone();
    let view = blocking(move || store.message(id)).await?;
    let view =
        view.ok_or_else(|| ApiError::status(StatusCode::NOT_FOUND, format!("no message {id}")))?;
    Ok((StatusCode::OK, Json(message_json(&view))))
}

/// A message for the API: id as a string, times in RFC 3339.
pub(super) fn message_json(m: &MessageView) -> Value {
    let segments: Vec<Value> = m
        .segment_details
        .iter()
        .map(|s| {
            json!({
                "index": s.index,
                "state": s.state,
                "account": s.account,
                "message_id": s.message_id,
                "submit_status": s.submit_status.map(crate::metrics::status_label),
                "receipt_state": s.receipt_state,
                "receipt_error": s.receipt_error,
                "submitted_at": s.submitted_at.map(rfc3339),
                "receipt_at": s.receipt_at.map(rfc3339),
            })
        })
        .collect();
    json!({
        "id": m.id.to_string(),
        "status": m.status.as_str(),
        "client_ref": m.client_ref,
        "to": m.to,
        "from": m.from,
        "class": m.class,
        "carrier": m.carrier,
        "segments": m.segments,
        "billable": m.billable,
        "reason": m.reason,
        "created_by": m.api_key,
        "not_before": rfc3339(m.not_before),
        "deadline": m.deadline.map(rfc3339),
        "created_at": rfc3339(m.created_at),
        "updated_at": rfc3339(m.updated_at),
        "batch_id": m.batch_id.map(|b| b.to_string()),
        "rerouted_from": m.rerouted_from,
        "segment_details": segments,
    })
}

/// `DELETE /v1/messages/{id}`: cancels a message not yet sent.
pub(super) async fn cancel(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Reply {
    auth(&app, &headers)?;
    let id = parse_id(&id)?;
    let store = app.store.clone();
    let now = app.now();
    match blocking(move || store.cancel(id, now)).await? {
        CancelOutcome::Cancelled => {
            Ok((StatusCode::OK, Json(json!({"id": id.to_string(), "status": "cancelled"}))))
        }
        CancelOutcome::NotCancellable(s) => Err(ApiError::status(
            StatusCode::CONFLICT,
            format!("message {id} is {} and can no longer be cancelled", s.as_str()),
        )),
        CancelOutcome::NotFound => {
            Err(ApiError::status(StatusCode::NOT_FOUND, format!("no message {id}")))
        }
    }
}

/// `POST /v1/messages/{id}/resolve` `{"decision":"resend"|"abandon"}`: the operator's call
/// on a message whose submit outcome is unknown.
pub(super) async fn resolve(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Reply {
    auth(&app, &headers)?;
    let id = parse_id(&id)?;
    let v = parse_json(&body)?;
    let decision = match v.get("decision").and_then(Value::as_str) {
        Some("resend") => UnknownDecision::Resend,
        Some("abandon") => UnknownDecision::Abandon,
        _ => return Err(ApiError::field("decision", "must be \"resend\" or \"abandon\"")),
    };
    let store = app.store.clone();
    let now = app.now();
    match blocking(move || store.resolve_unknown(id, decision, now)).await? {
        Some(status) => {
            app.wake.notify_waiters();
            Ok((StatusCode::OK, Json(json!({"id": id.to_string(), "status": status.as_str()}))))
        }
        None => Err(ApiError::status(
            StatusCode::CONFLICT,
            format!("message {id} is not in status unknown"),
        )),
    }
}

/// `GET /v1/binds`.
pub(super) async fn binds(State(app): State<Arc<App>>, headers: HeaderMap) -> Reply {
    auth(&app, &headers)?;
    let accounts: Vec<Value> = app
        .accounts
        .iter()
        .map(|a| {
            let binds: Vec<Value> = a
                .client
                .binds()
                .into_iter()
                .map(|b| {
                    json!({
                        "index": b.index, "kind": b.kind, "bound": b.bound,
                        "in_flight": b.in_flight, "window": b.window, "queued": b.queued,
                        "tps": b.tps, "throttled": b.throttled, "throttles": b.throttles,
                        "reconnects": b.reconnects, "last_error": b.last_error,
                    })
                })
                .collect();
            json!({"carrier": a.carrier, "account": a.name, "binds": binds})
        })
        .collect();
    Ok((StatusCode::OK, Json(json!({"accounts": accounts}))))
}
