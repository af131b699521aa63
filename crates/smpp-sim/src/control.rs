//! The HTTP control API (axum), on its own port:
//!
//! | Route | |
//! |---|---|
//! | `GET /stats` | JSON per carrier ([`crate::SimStats`]) |
//! | `POST /mo` | inject an MO ([`crate::MoRequest`] as JSON) |
//! | `POST /faults` | inject a fault ([`crate::FaultRequest`] as JSON) |
//! | `GET /messages?to=NUMBER[&carrier=NAME]` | what the handset received ([`crate::HandsetMessage`]) |
//! | `GET /metrics` | Prometheus text |

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::{FaultRequest, MoRequest, Shared};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/stats", get(stats))
        .route("/metrics", get(metrics))
        .route("/messages", get(messages))
        .route("/mo", post(mo))
        .route("/faults", post(faults))
        .with_state(shared)
}

pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let app = router(shared);
    let stop = async move {
        let _ = shutdown.changed().await;
    };
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
        tracing::warn!(error = %e, "control API stopped");
    }
}

fn error(status: StatusCode, message: impl ToString) -> Response {
    (status, Json(serde_json::json!({ "error": message.to_string() }))).into_response()
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    Json(s.stats()).into_response()
}

async fn metrics(State(s): State<Arc<Shared>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.stats().to_prometheus())
        .into_response()
}

#[derive(Deserialize)]
struct MessagesQuery {
    to: String,
    #[serde(default)]
    carrier: Option<String>,
}

async fn messages(State(s): State<Arc<Shared>>, Query(q): Query<MessagesQuery>) -> Response {
    Json(s.messages(q.carrier.as_deref(), &q.to)).into_response()
}

async fn mo(
    State(s): State<Arc<Shared>>,
    body: Result<Json<MoRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    match s.inject_mo(&req) {
        Ok(r) => Json(r).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}

async fn faults(
    State(s): State<Arc<Shared>>,
    body: Result<Json<FaultRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(req) = match body {
        Ok(b) => b,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.body_text()),
    };
    match s.set_fault(&req) {
        Ok(n) => Json(serde_json::json!({ "connections": n })).into_response(),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
}
