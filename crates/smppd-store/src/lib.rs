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
//! - The policy layer's records (list entries, batches and their workflow, re-routes, audit
//!   events) are written in the same transactions as the message changes they explain; a
//!   batch's approval and its messages are one transaction.

mod model;
mod records;
mod sqlite;

pub use model::*;
pub use records::*;
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

    /// Looks once more at receipts held (matched nothing) since `cutoff` or earlier, up to
    /// `limit` of them. An account whose SMSC writes receipt ids in another base than its
    /// submit_sm_resp ids (hex↔decimal) is only recognised here: a receipt is not matched by
    /// a cross reading until it has waited, because an early receipt (before its own resp is
    /// recorded) could meet another message's id that way. Returns the outcomes of the
    /// receipts it matched. Call it periodically with `cutoff` well past the response timeout.
    fn sweep_held_receipts(&self, cutoff: Millis, limit: usize) -> Result<Vec<ReceiptOutcome>>;

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

    /// Sets how `account`'s receipt ids read against its submit_sm_resp ids, from the
    /// configuration; `None` (`auto`) forgets a pair an earlier configuration set, so the
    /// account learns again (a learned pair is kept).
    fn configure_id_format(
        &self,
        account: &str,
        pair: Option<smpp_dlr::msgid::ReadingPair>,
    ) -> Result<()>;

    /// Receipts held on disk: they matched no submit yet.
    fn held_receipts(&self) -> Result<u64>;

    // ---------------------------------------------------------------- lists

    /// Adds or replaces list entries (keyed by list and number), in one transaction.
    fn put_list_entries(&self, list: ListKind, entries: &[ListEntry]) -> Result<()>;

    /// Removes a number from a list; `false` when it was not on it.
    fn remove_list_entry(&self, list: ListKind, number: &str) -> Result<bool>;

    /// A number's entry on a list.
    fn list_entry(&self, list: ListKind, number: &str) -> Result<Option<ListEntry>>;

    /// What both lists say about each number, in order (one snapshot).
    fn list_hits(&self, numbers: &[String]) -> Result<Vec<ListHits>>;

    /// The pre-send check's verdicts on claimed messages: each `submitting` message named
    /// becomes `rejected` (with a webhook) or `held` until the given time; its `submitting`
    /// segments go back to `queued` (never sent) and an audit event is written. Messages in
    /// another status are left alone. Returns how many changed.
    fn decide_before_send(&self, verdicts: &[BeforeSend], at: Millis) -> Result<u64>;

    /// Moves a `submitting` message that was never re-routed to another carrier and queues
    /// it again: its ledger is rebuilt (`segments` rows, `queued`), its segment and billable
    /// counts replaced, `rerouted_from` recorded (so it is never re-routed twice) and an
    /// audit event written. `false` (nothing changed) when it was re-routed before, is not
    /// `submitting`, or has an acked segment.
    fn reroute(&self, r: &Reroute) -> Result<bool>;

    /// Records that `number` (E.164) is served by `carrier` now, learned when a re-routed
    /// message was accepted there; a later lesson for the number replaces it.
    fn learn_carrier(&self, number: &str, carrier: &str, at: Millis) -> Result<()>;

    /// Every learned (number, carrier), for the carrier table at start.
    fn learned_carriers(&self) -> Result<Vec<(String, String)>>;

    // ---------------------------------------------------------------- batches

    /// Stores a new batch as a draft, created by `by`.
    fn create_batch(&self, batch: &NewBatch, by: &str, at: Millis) -> Result<BatchId>;

    /// A batch with its workflow record and message counts.
    fn batch(&self, id: BatchId) -> Result<Option<BatchView>>;

    /// Up to `limit` of a batch's rows in file order: the valid ones (`valid`), or the ones
    /// with errors.
    fn batch_rows(&self, id: BatchId, valid: bool, limit: usize) -> Result<Vec<BatchRow>>;

    /// Per-carrier totals of a batch's valid rows.
    fn batch_totals(&self, id: BatchId) -> Result<Vec<CarrierTotal>>;

    /// One workflow step, checked against the batch's status (and, for approval, against
    /// its makers) in the transaction that applies it; messages are queued in the same
    /// transaction.
    fn batch_action(
        &self,
        id: BatchId,
        action: &BatchAction,
        by: &str,
        at: Millis,
    ) -> Result<BatchOutcome>;

    // ---------------------------------------------------------------- reports, audit

    /// Messages created in `[from, to)`, per carrier and class.
    fn billing_report(&self, from: Millis, to: Millis) -> Result<Vec<BillingRow>>;

    /// The recorded events of a message, oldest first.
    fn audit_events(&self, id: MessageId) -> Result<Vec<AuditEvent>>;

    /// Deletes audit events older than `before`; returns how many.
    fn purge_audit(&self, before: Millis) -> Result<u64>;

    /// Forgets up to `limit` held receipts (receipts that matched no submit) that arrived
    /// before `before`, oldest first; returns how many. Their submits are long past any
    /// response timeout: they belong to segments whose resp was lost, or to no message of
    /// ours.
    fn purge_held_receipts(&self, before: Millis, limit: usize) -> Result<u64>;
}
