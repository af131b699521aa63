//! The HTTP API (axum): messages in, status out, suppression and opt-out lists, CSV batches
//! with approval, billing reports, audit trails, binds, health, metrics, OpenAPI.
//!
//! Every user mistake is a 4xx with `{"error":{"field","reason"}}`; a 500 means our fault.

mod api;
mod batches;
mod lists;
mod reports;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::json;
use tokio::sync::watch;

use smppd_store::ListKind;

use crate::app::App;

/// The OpenAPI 3.1 description of this API, served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Serves until `stop` turns true.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    mut stop: watch::Receiver<bool>,
) {
    let router = router(app);
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, router).with_graceful_shutdown(shutdown).await {
        tracing::error!(error = %e, "HTTP server stopped");
    }
}

/// All routes.
pub fn router(app: Arc<App>) -> Router {
    let limit = app.config.server.max_body_bytes;
    Router::new()
        .route("/v1/messages", post(api::create))
        .route("/v1/messages:batch", post(api::create_batch))
        .route("/v1/messages/{id}", get(api::show).delete(api::cancel))
        .route("/v1/messages/{id}/resolve", post(api::resolve))
        .route("/v1/messages/{id}/audit", get(reports::audit))
        .route("/v1/binds", get(api::binds))
        .route("/v1/suppressions/{number}", list_routes(ListKind::Suppression))
        .route(
            "/v1/suppressions:import",
            post(move |s, h, b| lists::import(ListKind::Suppression, s, h, b)),
        )
        .route("/v1/optouts/{number}", list_routes(ListKind::OptOut))
        .route("/v1/optouts:import", post(move |s, h, b| lists::import(ListKind::OptOut, s, h, b)))
        .route("/v1/batches", post(batches::create))
        .route("/v1/batches/{id}", get(batches::show).put(batches::edit))
        .route("/v1/batches/{id}/preview", get(batches::preview))
        .route("/v1/batches/{id}/{action}", post(batches::act))
        .route("/v1/reports/billing", get(reports::billing))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app)
}

/// `GET`, `PUT` and `DELETE /v1/{list}/{number}` for one list.
fn list_routes(list: ListKind) -> MethodRouter<Arc<App>> {
    get(move |s, h, p| lists::show(list, s, h, p))
        .put(move |s, h, p, b| lists::put(list, s, h, p, b))
        .delete(move |s, h, p| lists::remove(list, s, h, p))
}

async fn readyz(axum::extract::State(app): axum::extract::State<Arc<App>>) -> Response {
    if app.ready() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "a carrier has no bind up").into_response()
    }
}

async fn metrics(axum::extract::State(app): axum::extract::State<Arc<App>>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], app.metrics.render()).into_response()
}

/// An API error: status, field, reason.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    field: Option<String>,
    reason: String,
    retry_after: Option<u32>,
}

impl ApiError {
    /// 400 naming the field.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            field: Some(field.into()),
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// Any status.
    pub fn status(status: StatusCode, reason: impl Into<String>) -> Self {
        Self { status, field: None, reason: reason.into(), retry_after: None }
    }

    /// 503 with Retry-After.
    pub fn busy(reason: impl Into<String>, retry_after: u32) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            field: None,
            reason: reason.into(),
            retry_after: Some(retry_after),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(s) = self.retry_after {
            headers.insert(header::RETRY_AFTER, s.into());
        }
        let body = json!({"error": {"field": self.field, "reason": self.reason}});
        (self.status, headers, Json(body)).into_response()
    }
}
