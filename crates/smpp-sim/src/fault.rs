//! Faults on demand: what `POST /faults` and [`crate::RunningSim::set_fault`] can do to a
//! carrier's connections.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::Deserialize;
use smpp_codec::CommandStatus;

use crate::config::FaultConfig;

/// A fault to inject.
///
/// As JSON (`POST /faults`), the variant is the `fault` field in snake_case and its fields sit
/// beside it: `{"carrier": "docomo", "fault": "hang", "ms": 5000}`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Fault {
    /// Close the TCP connections at once, without unbind.
    Drop,
    /// Stop reading and answering for `ms` milliseconds (a wedged SMSC). Timers stand still
    /// too; the connection stays open.
    Hang {
        /// How long.
        ms: u64,
    },
    /// Hold every response for `ms` milliseconds from now on; 0 ends it.
    DelayResponses {
        /// The delay.
        ms: u64,
    },
    /// Answer the next `count` requests (any but bind, unbind and enquire_link) with
    /// generic_nack instead of their response.
    GenericNack {
        /// How many. Default 1.
        #[serde(default = "one")]
        count: u64,
        /// The generic_nack's status. Default ESME_RSYSERR.
        #[serde(default = "sys_err", deserialize_with = "crate::config::status")]
        status: CommandStatus,
    },
    /// Write one malformed PDU to each connection.
    Malformed {
        /// Which kind. Default `truncated_body`.
        #[serde(default)]
        kind: MalformedKind,
    },
    /// Refuse every bind for `ms` milliseconds.
    RefuseBinds {
        /// How long.
        ms: u64,
        /// The bind_resp status. Default ESME_RBINDFAIL.
        #[serde(default = "bind_fail", deserialize_with = "crate::config::status")]
        status: CommandStatus,
    },
    /// Unbind from the SMSC side (the session drains its deliver_sm first).
    Unbind,
    /// Answer the next `count` submits ESME_RMSGQFUL.
    QueueFull {
        /// How many.
        count: u64,
    },
    /// End the delay, refusal, generic_nack and queue-full faults.
    Clear,
}

fn one() -> u64 {
    1
}
fn sys_err() -> CommandStatus {
    CommandStatus::ESME_RSYSERR
}
fn bind_fail() -> CommandStatus {
    CommandStatus::ESME_RBINDFAIL
}

/// Which malformed PDU [`Fault::Malformed`] writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    /// A deliver_sm whose body ends inside its mandatory fields: the ESME should answer
    /// generic_nack ESME_RINVCMDLEN and keep the session (smpp34.md §8.3).
    #[default]
    TruncatedBody,
    /// A PDU with an unknown command_id: generic_nack ESME_RINVCMDID (smpp34.md §8.3).
    UnknownCommand,
    /// command_length 8: framing is lost, the ESME should close (smpp34.md §8.3).
    BadLength,
}

impl MalformedKind {
    /// The bytes, with `seq` as sequence_number.
    pub(crate) fn bytes(self, seq: u32) -> Vec<u8> {
        let s = seq.to_be_bytes();
        match self {
            // deliver_sm: service_type "", TON 1, NPI 1, then nothing where source_addr's NUL
            // should be.
            MalformedKind::TruncatedBody => {
                let mut v = vec![0, 0, 0, 20, 0, 0, 0, 5, 0, 0, 0, 0];
                v.extend_from_slice(&s);
                v.extend_from_slice(&[0, 1, 1, b'8']);
                v
            }
            MalformedKind::UnknownCommand => {
                let mut v = vec![0, 0, 0, 16, 0, 0, 0x01, 0x99, 0, 0, 0, 0];
                v.extend_from_slice(&s);
                v
            }
            MalformedKind::BadLength => vec![0, 0, 0, 8, 0, 0, 0, 0x15],
        }
    }
}

/// Which carrier and account a fault is for.
///
/// ```
/// let req: smpp_sim::FaultRequest =
///     serde_json::from_str(r#"{"carrier": "au", "fault": "generic_nack", "count": 2}"#).unwrap();
/// assert_eq!(req.fault, smpp_sim::Fault::GenericNack { count: 2, status: smpp_codec::CommandStatus::ESME_RSYSERR });
/// ```
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct FaultRequest {
    /// The carrier; `None` for every carrier.
    #[serde(default)]
    pub carrier: Option<String>,
    /// Only connections bound as this system_id (for drop, hang, malformed and unbind);
    /// `None` for all.
    #[serde(default)]
    pub account: Option<String>,
    /// What to do.
    #[serde(flatten)]
    pub fault: Fault,
}

impl FaultRequest {
    /// `fault` on every carrier and connection.
    pub fn all(fault: Fault) -> Self {
        Self { carrier: None, account: None, fault }
    }

    /// `fault` on one carrier's connections.
    pub fn carrier(carrier: &str, fault: Fault) -> Self {
        Self { carrier: Some(carrier.to_owned()), account: None, fault }
    }
}

/// The carrier-wide fault switches, read with atomics on every request.
#[derive(Debug)]
pub(crate) struct FaultState {
    start: Instant,
    response_delay_ms: AtomicU64,
    refuse_binds_until_ms: AtomicU64,
    refuse_status: AtomicU32,
    nack_remaining: AtomicU64,
    nack_status: AtomicU32,
    queue_full_remaining: AtomicU64,
    queue_full_every: u64,
    queue_full_burst: u64,
    queue_full_counter: AtomicU64,
}

/// Takes one from a counter when it is above 0.
fn take(c: &AtomicU64) -> bool {
    c.load(Relaxed) > 0 && c.fetch_update(Relaxed, Relaxed, |v| v.checked_sub(1)).is_ok()
}

impl FaultState {
    pub(crate) fn new(cfg: &FaultConfig, start: Instant) -> Self {
        Self {
            start,
            response_delay_ms: AtomicU64::new(cfg.response_delay_ms),
            refuse_binds_until_ms: AtomicU64::new(cfg.refuse_binds_ms),
            refuse_status: AtomicU32::new(cfg.refuse_binds_status.0),
            nack_remaining: AtomicU64::new(0),
            nack_status: AtomicU32::new(CommandStatus::ESME_RSYSERR.0),
            queue_full_remaining: AtomicU64::new(0),
            queue_full_every: cfg.queue_full_every,
            queue_full_burst: cfg.queue_full_burst,
            queue_full_counter: AtomicU64::new(0),
        }
    }

    fn ms_since_start(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.start).as_millis() as u64
    }

    /// Applies the carrier-wide part of a fault.
    pub(crate) fn apply(&self, fault: &Fault, now: Instant) {
        match fault {
            Fault::DelayResponses { ms } => self.response_delay_ms.store(*ms, Relaxed),
            Fault::RefuseBinds { ms, status } => {
                self.refuse_status.store(status.0, Relaxed);
                self.refuse_binds_until_ms.store(self.ms_since_start(now) + ms, Relaxed);
            }
            Fault::GenericNack { count, status } => {
                self.nack_status.store(status.0, Relaxed);
                self.nack_remaining.store(*count, Relaxed);
            }
            Fault::QueueFull { count } => self.queue_full_remaining.store(*count, Relaxed),
            Fault::Clear => {
                self.response_delay_ms.store(0, Relaxed);
                self.refuse_binds_until_ms.store(0, Relaxed);
                self.nack_remaining.store(0, Relaxed);
                self.queue_full_remaining.store(0, Relaxed);
            }
            Fault::Drop | Fault::Hang { .. } | Fault::Malformed { .. } | Fault::Unbind => {}
        }
    }

    pub(crate) fn response_delay(&self) -> Duration {
        Duration::from_millis(self.response_delay_ms.load(Relaxed))
    }

    /// The status to refuse a bind with, while refusing.
    pub(crate) fn refusing_binds(&self, now: Instant) -> Option<CommandStatus> {
        (self.ms_since_start(now) < self.refuse_binds_until_ms.load(Relaxed))
            .then(|| CommandStatus(self.refuse_status.load(Relaxed)))
    }

    /// Whether this request gets a generic_nack, and with which status.
    pub(crate) fn take_generic_nack(&self) -> Option<CommandStatus> {
        take(&self.nack_remaining).then(|| CommandStatus(self.nack_status.load(Relaxed)))
    }

    /// Whether this submit gets ESME_RMSGQFUL.
    pub(crate) fn take_queue_full(&self) -> bool {
        if take(&self.queue_full_remaining) {
            return true;
        }
        if self.queue_full_every == 0 {
            return false;
        }
        self.queue_full_counter.fetch_add(1, Relaxed) % self.queue_full_every
            < self.queue_full_burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_full_bursts_refuse_the_first_of_every_n() {
        let cfg =
            FaultConfig { queue_full_every: 5, queue_full_burst: 2, ..FaultConfig::default() };
        let f = FaultState::new(&cfg, Instant::now());
        let pattern: Vec<bool> = (0..10).map(|_| f.take_queue_full()).collect();
        assert_eq!(pattern, [true, true, false, false, false, true, true, false, false, false]);
    }

    #[test]
    fn generic_nack_counts_down() {
        let f = FaultState::new(&FaultConfig::default(), Instant::now());
        f.apply(
            &Fault::GenericNack { count: 2, status: CommandStatus::ESME_RINVCMDID },
            Instant::now(),
        );
        assert_eq!(f.take_generic_nack(), Some(CommandStatus::ESME_RINVCMDID));
        assert!(f.take_generic_nack().is_some());
        assert_eq!(f.take_generic_nack(), None);
    }

    #[test]
    fn faults_parse_from_json() {
        let r: FaultRequest =
            serde_json::from_str(r#"{"fault":"refuse_binds","ms":1500,"status":"RINVPASWD"}"#)
                .unwrap();
        assert_eq!(r.fault, Fault::RefuseBinds { ms: 1500, status: CommandStatus::ESME_RINVPASWD });
        let r: FaultRequest = serde_json::from_str(
            r#"{"carrier":"au","fault":"malformed","kind":"unknown_command"}"#,
        )
        .unwrap();
        assert_eq!(r.fault, Fault::Malformed { kind: MalformedKind::UnknownCommand });
    }
}
