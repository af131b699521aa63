//! Counters per carrier: lock-free atomics on the hot path, a snapshot for `GET /stats` and
//! [`crate::RunningSim::stats`], and the Prometheus text for `GET /metrics`.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

use serde::Serialize;
use smpp_codec::CommandStatus;

macro_rules! counters {
    ($( $(#[$m:meta])* $name:ident, )*) => {
        /// The live counters of one carrier.
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( pub(crate) $name: AtomicU64, )*
            /// Statuses below 0x100 (all the spec's), without a lock.
            errors: ErrorCounts,
            /// Vendor and reserved statuses.
            other_errors: Mutex<BTreeMap<u32, u64>>,
        }

        /// What one carrier has done so far. Counters only grow, except the `*_current` and
        /// `receipts_queued` gauges.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
        #[non_exhaustive]
        pub struct CarrierStats {
            $( $(#[$m])* pub $name: u64, )*
            /// Error responses sent, by command_status name (hex for unnamed ones).
            pub errors: BTreeMap<String, u64>,
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> CarrierStats {
                CarrierStats {
                    $( $name: self.$name.load(Relaxed), )*
                    errors: self
                        .errors
                        .0
                        .iter()
                        .enumerate()
                        .map(|(s, n)| (s as u32, n.load(Relaxed)))
                        .filter(|(_, n)| *n > 0)
                        .chain(self.other_errors.lock().expect("stats lock").iter().map(|(s, n)| (*s, *n)))
                        .map(|(s, n)| (CommandStatus(s).to_string(), n))
                        .collect(),
                }
            }
        }

        impl CarrierStats {
            /// (name, value, is_gauge) of every numeric field, for exporters.
            pub fn fields(&self) -> Vec<(&'static str, u64, bool)> {
                vec![ $( (stringify!($name), self.$name, stringify!($name).ends_with("_current") || stringify!($name) == "receipts_queued"), )* ]
            }
        }
    };
}

counters! {
    /// TCP (or TLS) connections open now.
    connections_current,
    /// Connections accepted.
    connections_total,
    /// Sessions bound now.
    binds_current,
    /// Successful binds.
    binds_total,
    /// Binds refused (bad credentials, over the limit, refusal fault).
    binds_refused,
    /// submit_sm / data_sm / submit_multi accepted (answered ESME_ROK).
    submits,
    /// Handset messages complete: single submits, and concatenated ones once their last part
    /// arrived.
    messages,
    /// Segments those messages take on the air: 1 per single message, one per concatenated
    /// part, and the carrier's split of a message_payload.
    parts,
    /// Billable segments by the carrier's rule (smpp-sms `billable_count_for`).
    billable_segments,
    /// Concatenated messages that never completed.
    concat_incomplete,
    /// Final-state receipts and intermediate notifications written to an ESME.
    receipts_sent,
    /// Receipts the ESME answered with ESME_ROK.
    receipts_acked,
    /// Receipt deliveries retried (no answer, error answer, connection lost).
    receipts_retried,
    /// Receipts given up after the last attempt, or dropped from a full queue.
    receipts_dropped,
    /// Receipts and MOs waiting now for a receiver to bind.
    receipts_queued,
    /// MO messages injected (each may be several deliver_sm parts).
    mo_injected,
    /// MO deliver_sm parts written to an ESME.
    mo_sent,
    /// MO parts the ESME answered with ESME_ROK.
    mo_acked,
    /// query_sm answered.
    queries,
    /// Messages cancelled by cancel_sm.
    cancels,
    /// Messages replaced by replace_sm.
    replaces,
    /// generic_nack written by the generic_nack fault.
    generic_nacks_sent,
    /// Malformed PDUs written by the malformed-PDU fault.
    malformed_sent,
    /// Malformed or out-of-state PDUs received from ESMEs.
    peer_errors,
}

impl Counters {
    pub(crate) fn inc(c: &AtomicU64) {
        c.fetch_add(1, Relaxed);
    }

    pub(crate) fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Relaxed);
    }

    pub(crate) fn dec(c: &AtomicU64) {
        // Gauges never go below 0 even if an increment was missed.
        let _ = c.fetch_update(Relaxed, Relaxed, |v| Some(v.saturating_sub(1)));
    }

    pub(crate) fn error(&self, status: CommandStatus) {
        match self.errors.0.get(status.0 as usize) {
            Some(c) => Self::inc(c),
            None => {
                *self.other_errors.lock().expect("stats lock").entry(status.0).or_default() += 1
            }
        }
    }
}

/// One counter per command_status below 0x100.
#[derive(Debug)]
pub(crate) struct ErrorCounts([AtomicU64; 256]);

impl Default for ErrorCounts {
    fn default() -> Self {
        Self(std::array::from_fn(|_| AtomicU64::new(0)))
    }
}

/// Every carrier's stats, as `GET /stats` returns them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SimStats {
    /// By carrier name.
    pub carriers: BTreeMap<String, CarrierStats>,
}

impl SimStats {
    /// The stats of `carrier` (all zero when there is no such carrier).
    pub fn carrier(&self, carrier: &str) -> CarrierStats {
        self.carriers.get(carrier).cloned().unwrap_or_default()
    }

    /// Prometheus text exposition of these stats: `smsc_sim_<field>{carrier="..."}` and
    /// `smsc_sim_errors_total{carrier,status}`.
    pub fn to_prometheus(&self) -> String {
        use prometheus::{Encoder, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};
        let registry = Registry::new();
        let mut families: BTreeMap<&'static str, Result<IntCounterVec, IntGaugeVec>> =
            BTreeMap::new();
        for (carrier, stats) in &self.carriers {
            for (field, value, gauge) in stats.fields() {
                let fam = families.entry(field).or_insert_with(|| {
                    let help = format!("smsc-sim {}", field.replace('_', " "));
                    if gauge {
                        let g = IntGaugeVec::new(
                            Opts::new(format!("smsc_sim_{field}"), help),
                            &["carrier"],
                        )
                        .expect("valid metric");
                        registry.register(Box::new(g.clone())).expect("unique metric");
                        Err(g)
                    } else {
                        let c = IntCounterVec::new(
                            Opts::new(format!("smsc_sim_{field}_total"), help),
                            &["carrier"],
                        )
                        .expect("valid metric");
                        registry.register(Box::new(c.clone())).expect("unique metric");
                        Ok(c)
                    }
                });
                match fam {
                    Ok(c) => c.with_label_values(&[carrier.as_str()]).inc_by(value),
                    Err(g) => g.with_label_values(&[carrier.as_str()]).set(value as i64),
                }
            }
        }
        let errors = IntCounterVec::new(
            Opts::new("smsc_sim_errors_total", "error responses sent, by command_status"),
            &["carrier", "status"],
        )
        .expect("valid metric");
        registry.register(Box::new(errors.clone())).expect("unique metric");
        for (carrier, stats) in &self.carriers {
            for (status, n) in &stats.errors {
                errors.with_label_values(&[carrier.as_str(), status.as_str()]).inc_by(*n);
            }
        }
        let mut out = Vec::new();
        TextEncoder::new().encode(&registry.gather(), &mut out).expect("text encoding cannot fail");
        String::from_utf8(out).expect("prometheus text is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_counters_gauges_and_errors_by_status() {
        let c = Counters::default();
        Counters::inc(&c.submits);
        Counters::inc(&c.binds_current);
        c.error(CommandStatus::ESME_RTHROTTLED);
        let mut s = SimStats::default();
        s.carriers.insert("docomo".into(), c.snapshot());
        let text = s.to_prometheus();
        assert!(text.contains("smsc_sim_submits_total{carrier=\"docomo\"} 1"), "{text}");
        assert!(text.contains("smsc_sim_binds_current{carrier=\"docomo\"} 1"), "{text}");
        assert!(
            text.contains("smsc_sim_errors_total{carrier=\"docomo\",status=\"ESME_RTHROTTLED\"} 1"),
            "{text}"
        );
    }
}
