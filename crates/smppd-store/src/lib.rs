//! smppd's durable state behind the [`Store`] trait, with the embedded SQLite implementation
//! [`SqliteStore`].
//!
//! The trait is batch-shaped on purpose: every write takes a slice and is one transaction, so
//! the daemon's committer can group many API requests, claims, submit results or receipts
//! into one fsync (group commit). A PostgreSQL implementation can follow without changing
//! callers: [`Store::claim`] maps to `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)`,
//! and nothing here assumes a single process beyond what `claim` hands out.
//!
//! Rules every implementation keeps (the tests in `tests/` check them on [`SqliteStore`]):
//! - [`Store::accept`] is durable when it returns: the API answers 202 only after it.
//! - [`Store::claim`] moves messages to `submitting` before a single submit_sm is written, so a
//!   crash can never lead to a silent resend: at restart [`Store::recover`] turns `submitting`
//!   into `unknown`, or back to `queued` only for classes the caller says may be resent.
//! - Receipts are matched on disk by normalised message_id per account (smpp-dlr's
//!   [`smpp_dlr::msgid`] readings), so a receipt days later, or after a restart, still resolves
//!   its message; one that arrives before its submit result is kept and matched later.
//! - Status changes that the client asked to hear about put a webhook row in the outbox in the
//!   same transaction (transactional outbox): a crash cannot lose a callback.
//! - Implementations never read a clock: every time comes in as an argument.

mod model;
mod sqlite;

pub use model::*;
pub use sqlite::{SqliteOptions, SqliteStore};

/// A storage failure. Carries the operation so logs say what failed.
#[derive(Debug, thiserror::Error)]
#[error("store: {op}: {source}")]
pub struct StoreError {
    /// What was being done (`accept`, `claim`, …).
    pub op: &'static str,
    /// The cause.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl StoreError {
    /// Wraps a cause.
    pub fn new(
        op: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { op, source: source.into() }
    }
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The daemon's durable state. Every method is synchronous and may block on disk: async
/// callers run them on a blocking thread. Implementations are shared (`&self`) between the
/// API, the senders and the receivers.
pub trait Store: Send + Sync + 'static {
    /// Stores new messages and their `segments` ledger rows (`queued`) in one transaction;
    /// durable on return. Repeats of an (api_key, idempotency_key) already stored, or earlier
    /// in the same slice, return the first message with `duplicate: true`.
    fn accept(&self, messages: &[NewMessage]) -> Result<Vec<Accepted>>;

    /// Up to `limit` messages of `carrier` that are `queued` or `held` with
    /// `not_before <= now` and no passed deadline, by (priority, not_before, id); marks them
    /// and their pending segments `submitting` on `account` in the same transaction.
    fn claim(
        &self,
        carrier: &str,
        account: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Claimed>>;

    /// Records submit results. A message whose segments are all acked becomes `submitted`;
    /// one with a failed segment `failed` (its reason the status); one with an unknown segment
    /// (and none failed) `unknown`; `Failed { retry: true }` puts the segment back to `queued`
    /// and the message back to `queued` with `not_before = at + retry_delay_ms`. While another
    /// segment of the message is still `submitting`, the message stays `submitting` (unless
    /// one failed): it is requeued or declared unknown once every segment has a result.
    /// Receipts held for an acked id are matched here; their outcomes are returned.
    fn record_submits(
        &self,
        results: &[SubmitResult],
        retry_delay_ms: i64,
    ) -> Result<Vec<ReceiptOutcome>>;

    /// Matches receipts to acked segments by account and normalised id (an `unknown` segment
    /// has no id until a late `Acked` result is recorded for it; then it matches too). The
    /// message becomes `delivered` when every segment has a final delivered receipt,
    /// `undeliverable` when any has a final non-delivered one. One outcome per receipt, in
    /// order.
    fn apply_receipts(&self, receipts: &[ReceiptIn]) -> Result<Vec<ReceiptOutcome>>;

    /// Stores MOs, linking each to the last message sent to its `from` from its `to` within
    /// `reply_window_ms`, and queues an `mo` webhook for each.
    fn record_mos(&self, mos: &[MoIn], reply_window_ms: i64) -> Result<Vec<MoRecorded>>;

    /// A message with its ledger rows.
    fn message(&self, id: MessageId) -> Result<Option<MessageView>>;

    /// Cancels a `queued` or `held` message.
    fn cancel(&self, id: MessageId, now: Millis) -> Result<CancelOutcome>;

    /// Messages whose deadline passed while `queued`/`held` become `expired`; returns how many.
    fn expire(&self, now: Millis) -> Result<u64>;

    /// Startup: `submitting` messages become `unknown` (their `submitting` segments too), or
    /// `queued` when `resendable(class)` says so. Call once before any claim.
    fn recover(&self, now: Millis, resendable: &dyn Fn(&str) -> bool) -> Result<Recovery>;

    /// The operator's decision for an `unknown` message. Returns its new status, or `None` if
    /// it was not `unknown`.
    fn resolve_unknown(
        &self,
        id: MessageId,
        decision: UnknownDecision,
        now: Millis,
    ) -> Result<Option<MessageStatus>>;

    /// Up to `limit` webhooks due at `now` (next attempt time reached, not delivered).
    fn due_webhooks(&self, now: Millis, limit: usize) -> Result<Vec<WebhookJob>>;

    /// Marks a webhook delivered.
    fn webhook_delivered(&self, id: i64, now: Millis) -> Result<()>;

    /// Schedules another attempt at `next_at` after a failure.
    fn webhook_failed(&self, id: i64, next_at: Millis, error: &str) -> Result<()>;

    /// Messages by status, class and carrier (non-final statuses only, plus totals of final
    /// ones), for gauges.
    fn depth(&self) -> Result<Vec<DepthRow>>;

    /// Messages currently `queued` or `held`, or `submitting` (the bound for 503s).
    fn backlog(&self) -> Result<u64>;
}
