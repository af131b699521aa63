//! Webhook delivery from the store's outbox: at least once, signed, retried with backoff.
//!
//! Each POST carries `X-Smppd-Webhook-Id` (the outbox id: receivers deduplicate on it) and
//! `X-Smppd-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the
//! scheme Stripe popularised: the timestamp in the signed text stops replays of old bodies.
//! A row leaves the outbox only after a 2xx answer.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use smppd_store::WebhookJob;
use tokio::sync::watch;

use crate::app::App;
use crate::clock::now_ms;
use crate::config::WebhookConfig;

const IDLE_POLL: Duration = Duration::from_millis(250);
const BATCH: usize = 64;

/// The signature header's value for `body` sent at `t` (unix seconds).
pub fn signature(secret: &[u8], t: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(t.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// Delivers the outbox until `stop` turns true.
pub async fn run(app: Arc<App>, config: WebhookConfig, mut stop: watch::Receiver<bool>) {
    let config = Arc::new(config);
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    while !*stop.borrow() {
        let store = app.store.clone();
        // The daemon's clock, not the host's: rows are due at the time of their event.
        let now = app.now();
        let jobs = tokio::task::spawn_blocking(move || store.due_webhooks(now, BATCH)).await;
        let jobs = match jobs {
            Ok(Ok(jobs)) => jobs,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "cannot read the webhook outbox");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        if jobs.is_empty() {
            tokio::select! {
                _ = tokio::time::sleep(IDLE_POLL) => {}
                _ = stop.changed() => {}
            }
            continue;
        }
        let mut sends = tokio::task::JoinSet::new();
        for job in jobs {
            sends.spawn(deliver(app.clone(), client.clone(), config.clone(), job));
        }
        while sends.join_next().await.is_some() {}
    }
}

async fn deliver(
    app: Arc<App>,
    client: Client<HttpConnector, Full<Bytes>>,
    config: Arc<WebhookConfig>,
    job: WebhookJob,
) {
    let result = post(&client, &config, &job).await;
    let store = app.store.clone();
    let now = app.now();
    let label = if result.is_ok() { "delivered" } else { "failed" };
    app.metrics.webhooks.with_label_values(&[label]).inc();
    let backoff = backoff_ms(&config, job.attempts);
    let _ = tokio::task::spawn_blocking(move || match result {
        Ok(()) => store.webhook_delivered(job.id, now),
        Err(e) => store.webhook_failed(job.id, now + backoff, &e),
    })
    .await;
}

async fn post(
    client: &Client<HttpConnector, Full<Bytes>>,
    config: &WebhookConfig,
    job: &WebhookJob,
) -> Result<(), String> {
    let body = Bytes::from(job.payload.clone());
    // Real time, not the daemon's clock: the receiver checks it against its own.
    let t = now_ms() / 1000;
    let request = hyper::Request::post(config.url.0.as_str())
        .header("content-type", "application/json")
        .header("x-smppd-webhook-id", job.id.to_string())
        .header("x-smppd-signature", signature(config.secret.as_bytes(), t, &body))
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    let timeout = Duration::from_millis(config.timeout_ms.0);
    let response = tokio::time::timeout(timeout, client.request(request))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", response.status()))
    }
}

fn backoff_ms(config: &WebhookConfig, attempts: u32) -> i64 {
    let base = config.backoff_ms.0.saturating_mul(1u64 << attempts.min(20));
    base.min(config.max_backoff_ms.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_time_dot_body() {
        // RFC 4231 test case 2 key/data, with our "t." prefix folded into the data.
        let s = signature(b"Jefe", 0, b"what do ya want for nothing?");
        assert!(s.starts_with("t=0,v1="));
        assert_eq!(s.len(), "t=0,v1=".len() + 64);
        assert_ne!(s, signature(b"Jefe", 1, b"what do ya want for nothing?"));
    }
}
