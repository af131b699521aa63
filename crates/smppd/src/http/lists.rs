//! `/v1/suppressions` and `/v1/optouts`: one number at a time (`GET`, `PUT`, `DELETE
//! /v1/{list}/{number}`), or a CSV import (`POST /v1/{list}:import`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use smppd_store::{ListEntry, ListKind};

use super::api::{auth, blocking, parse_json, Reply};
use super::ApiError;
use crate::app::App;
use crate::clock::rfc3339;
use crate::lists::{check_reason, read_import, DEFAULT_REASON};
use crate::policy::mask;

fn entry_json(list: ListKind, e: &ListEntry) -> Value {
    json!({
        "list": list.as_str(),
        "number": e.number,
        "reason": e.reason,
        "added_by": e.added_by,
        "added_at": rfc3339(e.added_at),
    })
}

fn number(app: &App, raw: &str) -> Result<String, ApiError> {
    app.policy.normalise_number(raw).map_err(|r| ApiError::field("number", r))
}

fn not_listed(list: ListKind, number: &str) -> ApiError {
    ApiError::status(
        StatusCode::NOT_FOUND,
        format!("{number} is not on the {} list", list.as_str()),
    )
}

/// `GET /v1/{list}/{number}`.
pub(super) async fn show(
    list: ListKind,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Reply {
    auth(&app, &headers)?;
    let n = number(&app, &raw)?;
    let store = app.store.clone();
    let key = n.clone();
    let entry = blocking(move || store.list_entry(list, &key)).await?;
    let entry = entry.ok_or_else(|| not_listed(list, &n))?;
    Ok((StatusCode::OK, Json(entry_json(list, &entry))))
}

/// `PUT /v1/{list}/{number}` with an optional `{"reason": "recycled_number"}`.
pub(super) async fn put(
    list: ListKind,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Bytes,
) -> Reply {
    let by = auth(&app, &headers)?;
    let n = number(&app, &raw)?;
    let reason = reason_of(&body)?;
    let entry = ListEntry { number: n, reason, added_by: by, added_at: app.now() };
    tracing::info!(list = list.as_str(), number = %mask(&entry.number), reason = %entry.reason,
        by = %entry.added_by, "list entry added");
    let store = app.store.clone();
    let stored = entry.clone();
    blocking(move || store.put_list_entries(list, &[stored])).await?;
    Ok((StatusCode::OK, Json(entry_json(list, &entry))))
}

/// The reason in a PUT body: absent (or an empty body) means [`DEFAULT_REASON`].
fn reason_of(body: &[u8]) -> Result<String, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_REASON.into());
    }
    let v = parse_json(body)?;
    let obj = v.as_object().ok_or_else(|| ApiError::field("body", "must be a JSON object"))?;
    if let Some(k) = obj.keys().find(|k| k.as_str() != "reason") {
        return Err(ApiError::field(k.as_str(), "unknown field (expected reason)"));
    }
    let reason = match obj.get("reason") {
        None | Some(Value::Null) => DEFAULT_REASON.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ApiError::field("reason", "must be a string")),
    };
    check_reason(&reason).map_err(|r| ApiError::field("reason", r))?;
    Ok(reason)
}

/// `DELETE /v1/{list}/{number}`.
pub(super) async fn remove(
    list: ListKind,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Reply {
    let by = auth(&app, &headers)?;
    let n = number(&app, &raw)?;
    let store = app.store.clone();
    let key = n.clone();
    if !blocking(move || store.remove_list_entry(list, &key)).await? {
        return Err(not_listed(list, &n));
    }
    tracing::info!(list = list.as_str(), number = %mask(&n), %by, "list entry removed");
    Ok((StatusCode::OK, Json(json!({"list": list.as_str(), "number": n, "removed": true}))))
}

/// `POST /v1/{list}:import`: the body is the CSV file itself (`number[,reason]` with a
/// header; UTF-8, with or without BOM, or Shift_JIS). Valid rows are stored in one
/// transaction; the others are reported by line.
pub(super) async fn import(
    list: ListKind,
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    let by = auth(&app, &headers)?;
    let import = read_import(&app, &body, &by, app.now()).map_err(|r| ApiError::field("csv", r))?;
    let n = import.entries.len();
    let store = app.store.clone();
    let entries = import.entries;
    blocking(move || store.put_list_entries(list, &entries)).await?;
    tracing::info!(list = list.as_str(), imported = n, refused = import.errors.len(), %by,
        "list imported");
    let errors: Vec<Value> = import
        .errors
        .iter()
        .map(|(line, reason)| json!({"line": line, "reason": reason}))
        .collect();
    Ok((StatusCode::OK, Json(json!({"list": list.as_str(), "imported": n, "errors": errors}))))
}
