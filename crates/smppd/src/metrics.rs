//! Prometheus metrics, conventional names (`smppd_` prefix, `_total` counters, `_seconds`
//! histograms). Gauges fed from the store and the binds are refreshed by the daemon's refresh loop
//! once a second rather than per message.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// Every metric the daemon exports.
pub struct Metrics {
    registry: Registry,
    /// API-accepted messages by class.
    pub accepted: IntCounterVec,
    /// submit_sm responses by carrier, account and status (`ok`, a status name, `unknown`).
    pub submits: IntCounterVec,
    /// Receipts by carrier and state (`DELIVRD`, …) and outcome (`matched`, `held`, `duplicate`).
    pub receipts: IntCounterVec,
    /// MOs by carrier.
    pub mos: IntCounterVec,
    /// ESME_RTHROTTLED / ESME_RMSGQFUL responses by carrier and account.
    pub throttles: IntCounterVec,
    /// Reconnects by carrier and account.
    pub reconnects: IntCounterVec,
    /// Webhook attempts by result (`delivered`, `failed`).
    pub webhooks: IntCounterVec,
    /// submit_sm → submit_sm_resp, by carrier.
    pub submit_latency: HistogramVec,
    /// submit_sm → final receipt, by carrier.
    pub delivery_latency: HistogramVec,
    /// Requests in flight per bind (window occupancy).
    pub window: IntGaugeVec,
    /// Binds up per carrier and account.
    pub binds_up: IntGaugeVec,
    /// Messages by status, class and carrier.
    pub queue: IntGaugeVec,
    /// Receipts on disk that matched no submit yet.
    pub receipts_held: IntGauge,
}

impl Metrics {
    /// Registers everything in a fresh registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(c.clone())).expect("unique metric");
            c
        };
        let gauge = |name: &str, help: &str, labels: &[&str]| {
            let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry.register(Box::new(g.clone())).expect("unique metric");
            g
        };
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            let h =
                HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), &["carrier"])
                    .expect("valid metric");
            registry.register(Box::new(h.clone())).expect("unique metric");
            h
        };
        Self {
            accepted: counter(
                "smppd_messages_accepted_total",
                "Messages accepted by the API.",
                &["class"],
            ),
            submits: counter(
                "smppd_submits_total",
                "submit_sm responses.",
                &["carrier", "account", "status"],
            ),
            receipts: counter(
                "smppd_receipts_total",
                "Delivery receipts received.",
                &["carrier", "state", "outcome"],
            ),
            mos: counter("smppd_mo_total", "Mobile-originated messages received.", &["carrier"]),
            throttles: counter(
                "smppd_throttles_total",
                "Throttling responses (ESME_RTHROTTLED, ESME_RMSGQFUL).",
                &["carrier", "account"],
            ),
            reconnects: counter(
                "smppd_reconnects_total",
                "SMSC reconnects.",
                &["carrier", "account"],
            ),
            webhooks: counter("smppd_webhooks_total", "Webhook delivery attempts.", &["result"]),
            submit_latency: histogram(
                "smppd_submit_response_seconds",
                "submit_sm to submit_sm_resp.",
                prometheus::exponential_buckets(0.0005, 2.0, 16).expect("valid buckets"),
            ),
            delivery_latency: histogram(
                "smppd_delivery_seconds",
                "submit_sm to final delivery receipt.",
                prometheus::exponential_buckets(0.01, 2.0, 26).expect("valid buckets"),
            ),
            window: gauge(
                "smppd_window_in_flight",
                "Requests awaiting a response, per bind.",
                &["carrier", "account", "bind"],
            ),
            binds_up: gauge("smppd_binds_up", "Binds currently bound.", &["carrier", "account"]),
            queue: gauge(
                "smppd_messages",
                "Messages by status, class and carrier.",
                &["status", "class", "carrier"],
            ),
            receipts_held: {
                let g = IntGauge::new(
                    "smppd_receipts_held",
                    "Receipts on disk that matched no submit yet (early, or never to match).",
                )
                .expect("valid metric");
                registry.register(Box::new(g.clone())).expect("unique metric");
                g
            },
            registry,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// A command_status as a metric label: `ok`, the status name, or hex.
pub fn status_label(status: u32) -> String {
    if status == 0 {
        return "ok".into();
    }
    smpp_codec::CommandStatus(status).to_string()
}
