//! One sender per SMSC account: claims due messages of its carrier from the store, checks
//! them once more (lists, quiet hours), puts all segments of a message on one bind in order,
//! and reports every segment's outcome to the ledger through group commit. A message the
//! carrier refuses as not its subscriber is re-routed once to the next candidate carrier.
//!
//! Crash safety comes from the order of writes: a message is `submitting` on disk before any
//! of its submit_sm is written, and its results are recorded after the responses. What a
//! crash leaves `submitting` is therefore "maybe sent", which [`smppd_store::Store::recover`]
//! turns into `unknown` (or `queued` for classes that may be resent).

use std::sync::Arc;
use std::time::Duration;

use smpp_codec::{CommandStatus, Time};
use smpp_sms::CarrierProfile;
use smpp_tokio::{compose, ErrorKind, EsmeClient};
use smppd_store::{BeforeSend, Claimed, Millis, Reroute, SubmitOutcome, SubmitResult};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::app::App;
use crate::lists::Lists;
use crate::metrics::status_label;
use crate::policy::{mask, Verdict};

/// How long an idle sender waits before looking at the queue again (held messages become
/// due with time, not with an event).
const IDLE_POLL: Duration = Duration::from_millis(200);

/// One account's sending loop.
pub struct Sender {
    app: Arc<App>,
    carrier: String,
    account: String,
    client: EsmeClient,
    profile: CarrierProfile,
    /// Messages claimed and not yet recorded: bounds what a crash can leave `unknown`.
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
}

impl Sender {
    /// A sender for `account` of `carrier`; `max_in_flight` messages at most between claim
    /// and record.
    pub fn new(
        app: Arc<App>,
        carrier: &str,
        account: &str,
        client: EsmeClient,
        max_in_flight: usize,
    ) -> Self {
        let profile = app.profile(carrier).cloned().unwrap_or(CarrierProfile::DOCOMO);
        Self {
            app,
            carrier: carrier.to_string(),
            account: account.to_string(),
            client,
            profile,
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
        }
    }

    /// Runs until `stop` turns true, then waits for the messages in flight to be recorded.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        while !*stop.borrow() {
            let claimed =
                if this.client.status().bound > 0 { this.claim().await } else { Vec::new() };
            let claimed = this.check_before_send(claimed).await;
            if claimed.is_empty() {
                tokio::select! {
                    _ = this.app.wake.notified() => {}
                    _ = tokio::time::sleep(IDLE_POLL) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            for m in claimed {
                let permit = this.in_flight.clone().acquire_owned().await.expect("never closed");
                tokio::spawn(this.clone().send(m, permit));
            }
        }
        let _ = this.in_flight.acquire_many(this.max_in_flight as u32).await;
    }

    async fn claim(&self) -> Vec<Claimed> {
        // Claim only what can be in flight now, so a crash leaves little `submitting`.
        let mut room = self.in_flight.available_permits();
        if room == 0 {
            // Wait for a slot, then claim at once: returning empty here would send the loop
            // into its idle sleep while the queue is full, capping throughput.
            drop(self.in_flight.acquire().await);
            room = self.in_flight.available_permits().max(1);
        }
        let (store, carrier, account) =
            (self.app.store.clone(), self.carrier.clone(), self.account.clone());
        let now = self.app.now();
        match tokio::task::spawn_blocking(move || store.claim(&carrier, &account, now, room)).await
        {
            Ok(Ok(claimed)) => claimed,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "claim failed");
                tokio::time::sleep(IDLE_POLL).await;
                Vec::new()
            }
            Err(e) => {
                tracing::error!(error = %e, "claim task failed");
                Vec::new()
            }
        }
    }

    /// The pre-send check: a number suppressed or opted out since its message was queued,
    /// or a message now due inside its class's quiet hours (it waited in the queue), must not
    /// go out. Returns the messages that may.
    async fn check_before_send(&self, claimed: Vec<Claimed>) -> Vec<Claimed> {
        if claimed.is_empty() {
            return claimed;
        }
        let numbers = claimed.iter().map(|c| c.to.clone()).collect();
        let lists = match crate::lists::lookup(&self.app, numbers).await {
            Ok(lists) => lists,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the lists; claimed messages requeued");
                self.requeue(&claimed).await;
                return Vec::new();
            }
        };
        let now = self.app.now();
        let (stopped, go): (Vec<_>, Vec<_>) = claimed
            .into_iter()
            .map(|c| (self.verdict(&c, now, &lists), c))
            .partition(|(v, _)| v.is_some());
        if stopped.is_empty() {
            return go.into_iter().map(|(_, c)| c).collect();
        }
        let (verdicts, messages): (Vec<BeforeSend>, Vec<Claimed>) =
            stopped.into_iter().map(|(v, c)| (v.expect("partitioned on is_some"), c)).unzip();
        let store = self.app.store.clone();
        let written =
            tokio::task::spawn_blocking(move || store.decide_before_send(&verdicts, now)).await;
        if !matches!(written, Ok(Ok(_))) {
            tracing::error!("cannot record the pre-send check; those messages are requeued");
            self.requeue(&messages).await;
        }
        go.into_iter().map(|(_, c)| c).collect()
    }

    /// Why `c` must not go out now, if it must not: the decision taken at accept, taken
    /// again with today's lists and time.
    fn verdict(&self, c: &Claimed, now: Millis, lists: &Lists) -> Option<BeforeSend> {
        let on_lists = lists.get(&c.to).cloned().unwrap_or_default();
        match self.app.policy.decide(&c.class, &c.to, now, None, c.deadline, on_lists).0 {
            Verdict::Send => None,
            Verdict::Hold { until, reason } => {
                Some(BeforeSend::Hold { message: c.id, until, reason })
            }
            Verdict::Reject { reason } => {
                tracing::info!(message = c.id, to = %mask(&c.to), %reason, "not sent");
                Some(BeforeSend::Reject { message: c.id, reason })
            }
        }
    }

    /// Hands claimed messages back without sending them: a retryable failure per pending
    /// segment puts them back in the queue for a later claim.
    async fn requeue(&self, messages: &[Claimed]) {
        let at = self.app.now();
        let results: Vec<SubmitResult> = messages
            .iter()
            .flat_map(|m| {
                m.pending.iter().map(move |&segment| SubmitResult {
                    message: m.id,
                    segment,
                    account: self.account.clone(),
                    outcome: SubmitOutcome::Failed {
                        status: CommandStatus::ESME_RSYSERR.get(),
                        retry: true,
                    },
                    at,
                    sent_at: at,
                })
            })
            .collect();
        if let Err(e) = self.app.ledger.write(results).await {
            tracing::error!(error = %e, "could not requeue claimed messages");
        }
    }

    async fn send(self: Arc<Self>, m: Claimed, _permit: OwnedSemaphorePermit) {
        let sent_at = self.app.now();
        let resendable = self.app.policy.resendable(&m.class);
        let outcomes = match self.parts(&m) {
            Ok(parts) => self.submit(parts, resendable).await,
            Err(reason) => {
                tracing::error!(message = m.id, %reason, "cannot build the PDUs");
                m.pending
                    .iter()
                    .map(|_| SubmitOutcome::Failed {
                        status: CommandStatus::ESME_RSYSERR.get(),
                        retry: false,
                    })
                    .collect()
            }
        };
        let at = self.app.now();
        for outcome in &outcomes {
            self.count(outcome, at - sent_at);
        }
        if let Some(status) = self.not_subscriber(&outcomes) {
            if self.reroute(&m, status, at).await {
                return;
            }
        }
        self.learn_if_rerouted(&m, &outcomes).await;
        let results: Vec<SubmitResult> = m
            .pending
            .iter()
            .zip(outcomes)
            .map(|(&segment, outcome)| SubmitResult {
                message: m.id,
                segment,
                account: self.account.clone(),
                outcome,
                at,
                sent_at,
            })
            .collect();
        if let Err(e) = self.app.ledger.write(results).await {
            // The message stays `submitting` on disk: at restart it becomes `unknown`, never
            // silently resent.
            tracing::error!(message = m.id, error = %e, "could not record submit results");
        }
    }

    /// The "not my subscriber" status, when the carrier refused every part with it (or with
    /// other errors) and accepted none: then the message may go to another carrier.
    fn not_subscriber(&self, outcomes: &[SubmitOutcome]) -> Option<u32> {
        let mut found = None;
        for o in outcomes {
            match o {
                SubmitOutcome::Failed { status, .. }
                    if self.app.policy.is_not_subscriber(*status) =>
                {
                    found = Some(*status)
                }
                SubmitOutcome::Failed { .. } => {}
                SubmitOutcome::Acked { .. } | SubmitOutcome::Unknown => return None,
            }
        }
        found
    }

    /// Moves the message to the next candidate carrier, once (the store refuses a second
    /// time). `false` when there is no candidate or the store refused: the failure is then
    /// recorded as usual.
    async fn reroute(&self, m: &Claimed, status: u32, at: Millis) -> bool {
        let Some(next) = self.app.policy.next_candidate(&m.to, &self.carrier) else { return false };
        let Some(profile) = self.app.profile(&next) else { return false };
        // The new carrier may split and bill the text differently.
        let Ok(seg) = smpp_sms::segment(&m.text, profile, 0, false) else { return false };
        let r = Reroute {
            message: m.id,
            from_carrier: self.carrier.clone(),
            to_carrier: next.clone(),
            segments: seg.parts.len() as u32,
            billable: seg.billable,
            status,
            at,
        };
        let store = self.app.store.clone();
        match tokio::task::spawn_blocking(move || store.reroute(&r)).await {
            Ok(Ok(true)) => {
                tracing::info!(message = m.id, to = %mask(&m.to), from = %self.carrier, carrier = %next,
                    status = %status_label(status), "not a subscriber here; re-routed");
                self.app.wake.notify_waiters();
                true
            }
            Ok(Ok(false)) => false,
            Ok(Err(e)) => {
                tracing::error!(message = m.id, error = %e, "re-route failed");
                false
            }
            Err(e) => {
                tracing::error!(message = m.id, error = %e, "re-route task failed");
                false
            }
        }
    }

    /// A re-routed message this carrier accepted teaches the carrier table where the number
    /// lives now, in memory and on disk (a restart keeps the lesson).
    async fn learn_if_rerouted(&self, m: &Claimed, outcomes: &[SubmitOutcome]) {
        if !m.rerouted || !outcomes.iter().all(|o| matches!(o, SubmitOutcome::Acked { .. })) {
            return;
        }
        if let Err(e) = self.app.policy.learn(&m.to, &self.carrier) {
            tracing::warn!(to = %mask(&m.to), error = %e, "carrier not learned");
            return;
        }
        let (store, to, carrier, at) =
            (self.app.store.clone(), m.to.clone(), self.carrier.clone(), self.app.now());
        match tokio::task::spawn_blocking(move || store.learn_carrier(&to, &carrier, at)).await {
            Ok(Ok(())) => {
                tracing::info!(to = %mask(&m.to), carrier = %self.carrier, "carrier learned")
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "carrier learned in memory only"),
            Err(e) => tracing::warn!(error = %e, "carrier learned in memory only"),
        }
    }

    fn parts(
        &self,
        m: &Claimed,
    ) -> Result<Vec<(u64, smpp_codec::SubmitSm, smpp_codec::Tlvs)>, String> {
        // The reference comes from the message id: the same on a resend, different for
        // concurrent messages to one handset.
        let seg = smpp_sms::segment(&m.text, &self.profile, m.id as u16, false)
            .map_err(|e| e.to_string())?;
        let rd = u8::from(m.dlr);
        let mut all = compose::submits(&seg, &m.from, &m.to, rd).map_err(|e| e.to_string())?;
        let validity = m.deadline.map(validity_period).transpose()?;
        let mut out = Vec::with_capacity(m.pending.len());
        for &i in &m.pending {
            let (mut sm, tlvs) =
                all.get_mut(i as usize).map(std::mem::take).ok_or("segment index out of range")?;
            if let Some(v) = &validity {
                sm.validity_period = v.clone();
            }
            out.push(((m.id as u64) << 8 | u64::from(i), sm, tlvs));
        }
        Ok(out)
    }

    /// One outcome per part. A part whose outcome is unknown is resent only when its class
    /// allows it (an OTP may arrive twice; a dunning reminder must not).
    async fn submit(
        &self,
        parts: Vec<(u64, smpp_codec::SubmitSm, smpp_codec::Tlvs)>,
        resendable: bool,
    ) -> Vec<SubmitOutcome> {
        let results = self.client.submit_group(parts).await;
        results
            .into_iter()
            .map(|r| match r {
                Ok(s) => SubmitOutcome::Acked { smsc_id: s.message_id.to_string() },
                Err(e) if e.outcome_unknown() && resendable => SubmitOutcome::Failed {
                    status: CommandStatus::ESME_RUNKNOWNERR.get(),
                    retry: true,
                },
                Err(e) if e.outcome_unknown() => SubmitOutcome::Unknown,
                Err(e) => match e.kind() {
                    ErrorKind::Status(s) | ErrorKind::GenericNack(s) => {
                        SubmitOutcome::Failed { status: s.get(), retry: is_transient(*s) }
                    }
                    // Never written (client closing, bind refused): safe to try again later.
                    _ => SubmitOutcome::Failed {
                        status: CommandStatus::ESME_RSYSERR.get(),
                        retry: true,
                    },
                },
            })
            .collect()
    }

    fn count(&self, outcome: &SubmitOutcome, latency_ms: Millis) {
        let status = match outcome {
            SubmitOutcome::Acked { .. } => "ok".to_string(),
            SubmitOutcome::Failed { status, .. } => status_label(*status),
            SubmitOutcome::Unknown => "unknown".to_string(),
        };
        self.app.metrics.submits.with_label_values(&[&self.carrier, &self.account, &status]).inc();
        if matches!(outcome, SubmitOutcome::Acked { .. }) {
            self.app
                .metrics
                .submit_latency
                .with_label_values(&[&self.carrier])
                .observe(latency_ms.max(0) as f64 / 1000.0);
        }
    }
}

/// Statuses after which the same PDU may succeed later (smpp34.md §5): system error,
/// temporary application error, queue full. Everything else is final for this message.
fn is_transient(s: CommandStatus) -> bool {
    matches!(
        s,
        CommandStatus::ESME_RSYSERR
            | CommandStatus::ESME_RX_T_APPN
            | CommandStatus::ESME_RMSGQFUL
            | CommandStatus::ESME_RTHROTTLED
    )
}

/// An absolute validity_period in UTC (`YYMMDDhhmmss000+`, smpp34.md §7.6): the SMSC stops
/// trying when the message's deadline passes.
fn validity_period(deadline: Millis) -> Result<Time, String> {
    let t = time::OffsetDateTime::from_unix_timestamp(deadline.div_euclid(1000))
        .map_err(|e| e.to_string())?;
    let s = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}000+",
        t.year().rem_euclid(100),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Time::new(s.into_bytes()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_period_is_absolute_utc() {
        let t = crate::clock::parse_rfc3339("2026-11-23T17:30:05+09:00").unwrap();
        assert_eq!(validity_period(t).unwrap().as_str(), "261123083005000+");
    }
}
