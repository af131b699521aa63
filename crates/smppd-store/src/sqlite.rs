//! The SQLite [`Store`]: see [`SqliteStore`] for the layout and the choices made.

mod accept;
mod batches;
mod claim;
mod codec;
mod events;
mod group;
mod ids;
mod lists;
mod outbox;
mod presend;
mod read;
mod receipts;
mod reports;
mod schema;
mod status;
mod submits;
mod tx;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction};

use tx::Tx;

use crate::{
    Accepted, AuditEvent, BatchAction, BatchId, BatchOutcome, BatchRow, BatchView, BeforeSend,
    BillingRow, CancelOutcome, CarrierTotal, Claimed, DepthRow, ListEntry, ListHits, ListKind,
    MessageId, MessageStatus, MessageView, Millis, MoIn, MoRecorded, NewBatch, NewMessage,
    ReceiptIn, ReceiptOutcome, Recovery, Reroute, Result, Store, StoreError, SubmitResult,
    UnknownDecision, WebhookJob,
};

/// What the private helpers fail with: a rusqlite error or a corrupt value, boxed; the public
/// methods wrap it in a [`StoreError`] naming the operation.
type DbError = Box<dyn std::error::Error + Send + Sync>;
type DbResult<T> = std::result::Result<T, DbError>;

/// Prepared statements kept per connection; the store uses fewer than this.
const STATEMENT_CACHE: usize = 96;

/// How to open a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// The database file (created if missing, with its `-wal` and `-shm` beside it).
    pub path: PathBuf,
    /// `PRAGMA synchronous=FULL` (the default): a commit survives power loss. `false` gives
    /// `NORMAL`, which in WAL mode survives a process crash but may lose the last commits on
    /// power loss.
    pub synchronous_full: bool,
    /// Page cache per connection, in KiB (there are two connections). Default 64 MiB.
    pub cache_size_kib: u32,
    /// How long a statement waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Whether status changes and MOs are written to the webhook outbox (default `true`).
    /// A daemon with no webhook URL turns this off, so rows nobody will deliver do not pile
    /// up or cost a write per event. MOs are still stored in `mos` either way; events from
    /// while it was off are not replayed when it is turned on.
    pub webhooks: bool,
}

impl SqliteOptions {
    /// Defaults for `path`: synchronous FULL, 64 MiB cache per connection, 5 s busy timeout.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            synchronous_full: true,
            cache_size_kib: 64 * 1024,
            busy_timeout: Duration::from_secs(5),
            webhooks: true,
        }
    }
}

/// The [`Store`] in one SQLite file (WAL mode).
///
/// # Layout
///
/// - `messages`: one row per accepted message. Partial indexes keep the hot queries small
///   whatever the history holds: `messages_claim` (carrier, priority, not_before) over
///   `queued`/`held` rows only, `messages_deadline` over the same rows with a deadline,
///   `messages_submitting` for [`Store::recover`]; `messages_idem` enforces the idempotency
///   key per API key; `messages_reply` finds the conversation an MO answers.
/// - `segments`: the submit ledger, one row per segment, created `queued` at accept.
/// - `id_keys`: for every acked segment, one row per reading of its SMSC message_id
///   ([`smpp_dlr::msgid::candidates`]: the reading and the key it gives), so a receipt is
///   matched with index seeks, days later or after a restart.
/// - `held_receipts` + `held_keys`: receipts that matched nothing yet (the submit_sm_resp is
///   not recorded yet, or the id is foreign). They stay until an ack matches them or
///   [`Store::purge_held_receipts`] forgets them.
/// - `id_formats`: the reading pair learned per account (see below).
/// - `mos`: received MOs with the message they answer.
/// - `webhooks`: the transactional outbox (not written when [`SqliteOptions::webhooks`] is off).
/// - `depth`: message counts per (status, class, carrier), moved by the writer in the
///   transaction that changes a message (`sqlite/tx.rs`; triggers cost too much), so
///   [`Store::depth`] and [`Store::backlog`] cost a few rows however many messages wait.
/// - `lists`: the suppression and opt-out lists, keyed by (number, list) so one seek answers
///   both for a number ([`Store::list_hits`]).
/// - `batches` + `batch_rows`: CSV batches, their maker-checker record and their checked,
///   rendered rows; messages point back with `messages.batch_id` (index `messages_batch`).
/// - `paused`: what a paused batch's waiting messages were, restored on resume.
/// - `events`: the audit trail's own records (held, rerouted, rejected_before_send, paused,
///   resumed), written in the transaction that made them; purged by age.
/// - `messages_created` indexes `created_at` for the billing report.
///
/// Schema changes are numbered migrations recorded in `PRAGMA user_version`.
///
/// # Connections
///
/// One writer connection, owned by a thread of its own, runs every write: each call's slice
/// in one go, whatever its length, and every call waiting when the thread is free in the
/// same `BEGIN IMMEDIATE` transaction, each in a savepoint, with one commit ([`group`]: group
/// commit across the daemon's binds and the API). A second,
/// `query_only` connection serves [`Store::message`], [`Store::depth`], [`Store::backlog`]
/// and [`Store::due_webhooks`]: WAL lets it read beside the writer. Both use cached prepared
/// statements and a bounded page cache ([`SqliteOptions::cache_size_kib`] each), so memory
/// stays flat with a million messages waiting.
///
/// # Message status
///
/// Once a message has been claimed its status follows its ledger: any segment `failed` →
/// `failed`; any final non-delivered receipt → `undeliverable`; any segment still `submitting` → `submitting` (a message is not requeued
/// or declared unknown while one of its segments is on the wire, so [`Store::recover`] finds
/// every in-flight segment through its message); any `unknown` → `unknown`; any `queued` (a
/// retry) → `queued`; every segment's final receipt delivered → `delivered`; else
/// `submitted`. `held`, `cancelled`, `expired` and `rejected` are decisions, not ledger
/// states: a late receipt updates the segment but does not move such a message.
///
/// # Receipts
///
/// A receipt id is read per [`smpp_dlr::msgid::ReadingPair`]. Until an account's pair is
/// learned, only same-reading pairs are tried (exact text, then the same number in decimal
/// or hex: case and leading zeros are forgiven); a receipt they do not explain is held. A
/// cross reading (hex resp id, decimal receipt id, or the reverse) is only considered by
/// [`Store::sweep_held_receipts`], for receipts that have waited past the grace period: an
/// early receipt (before its own submit_sm_resp is recorded) read across bases can name
/// another message (`29` read as hex is `41`), and would resolve the wrong one. A pair is
/// learned once it explained two matches and more than any other (ids that read the same
/// in both bases, `0`–`9`, teach nothing); it is kept in `id_formats`, so a restart does
/// not start over. Once a cross pair is learned it is the only one tried for ids it can
/// read, and every held receipt of the account is tried under it. Among several segments
/// with the same key (ids reused by the SMSC), the most recently submitted wins. Segments
/// whose submit went `unknown` have no id and cannot be matched by a receipt; a late
/// submit_sm_resp recorded for them (`Acked` on an `unknown` segment) makes them
/// matchable. Any receipt for a segment that already has a final one is a
/// [`ReceiptOutcome::Duplicate`] (counted in `segments.receipts`, no other change).
///
/// # Webhooks
///
/// A `status` row is queued in the transaction that moves a message to `submitted` or
/// `delivered` when it asked for receipts (`dlr`), and always for `undeliverable`,
/// `expired`, `failed`, `unknown`, `cancelled` and `rejected` (at accept). Body, fields in
/// this order: `{"type":"message.status","id":"42","client_ref":"r1"|null,
/// "status":"delivered","carrier":"docomo","to":"+8190…","segments":1,"at":1700000000000}`,
/// plus `"error":"<reason>"` after `segments` for `failed`, `undeliverable`, `expired`,
/// `rejected` and `unknown`. Each MO queues an `mo` row: `{"type":"mo","id":"7","from":…,
/// "to":…,"text":…,"carrier":…,"account":…,"at":…,"in_reply_to":{"id":"42","client_ref":…}
/// |null}`. Rows are due at the event time.
///
/// # Other choices
///
/// - A message is stored with at least one segment (an empty text is one SMS).
/// - [`Store::cancel`] leaves the ledger rows `queued`: they show it was never sent. A
///   message requeued after a retryable error can be cancelled or expire with some
///   segments already acked.
/// - Submit results for segments that are not `submitting` or `unknown` (repeats) are
///   ignored, as are results for unknown message ids: one bad row must not fail the batch.
pub struct SqliteStore {
    writer: group::GroupWriter,
    reader: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database, migrates its schema and loads the learned id formats.
    pub fn open(options: SqliteOptions) -> Result<Self> {
        let op = "open";
        let mut conn = connect(&options).map_err(|e| StoreError::new(op, e))?;
        schema::migrate(&mut conn).map_err(|e| StoreError::new(op, e))?;
        if !options.webhooks {
            // A TEMP trigger lives on this connection only: the file keeps no trace of the
            // setting, and every write path that queues a webhook skips the row the same way.
            conn.execute_batch(
                "CREATE TEMP TRIGGER no_webhooks BEFORE INSERT ON main.webhooks
                 BEGIN SELECT RAISE(IGNORE); END;",
            )
            .map_err(|e| StoreError::new(op, e))?;
        }
        let formats = ids::Formats::load(&conn).map_err(|e| StoreError::new(op, e))?;
        let reader = connect(&options)
            .and_then(|r| r.pragma_update(None, "query_only", true).map(|()| r))
            .map_err(|e| StoreError::new(op, e))?;
        let writer =
            group::GroupWriter::start(conn, formats).map_err(|e| StoreError::new(op, e))?;
        Ok(Self { writer, reader: Mutex::new(reader) })
    }

    /// Runs `f` on the writer thread, in the transaction of the next group commit
    /// ([`group`]), and returns once that has committed.
    fn write<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Tx<'_>, &mut ids::Formats) -> DbResult<T> + Send + 'static,
    ) -> Result<T> {
        self.writer.write(op, f)
    }

    /// Runs `f` in one read transaction on the reader (one snapshot for several queries).
    fn read<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Transaction<'_>) -> DbResult<T>,
    ) -> Result<T> {
        let mut reader = relock(&self.reader);
        let run = || -> DbResult<T> {
            let tx = reader.transaction()?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|e| StoreError::new(op, e))
    }
}

/// Locks `mutex`, recovering from poisoning: a panic inside a transaction rolled it back
/// when the [`Transaction`] was dropped, so the connection is still consistent.
fn relock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Opens one connection with the store's settings.
fn connect(options: &SqliteOptions) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(&options.path, flags)?;
    conn.busy_timeout(options.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // WAL: readers beside the writer, one fsync per commit (of the WAL) instead of two.
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    let synchronous = if options.synchronous_full { "FULL" } else { "NORMAL" };
    conn.pragma_update(None, "synchronous", synchronous)?;
    // Negative cache_size is in KiB: a hard bound on this connection's page cache.
    conn.pragma_update(None, "cache_size", -i64::from(options.cache_size_kib))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

impl Store for SqliteStore {
    fn accept(&self, messages: &[NewMessage]) -> Result<Vec<Accepted>> {
        let messages = messages.to_vec();
        self.write("accept", move |tx, _| accept::accept(tx, &messages))
    }

    fn claim(
        &self,
        carrier: &str,
        account: &str,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<Claimed>> {
        let (carrier, account) = (carrier.to_owned(), account.to_owned());
        self.write("claim", move |tx, _| claim::claim(tx, &carrier, &account, now, limit))
    }

    fn record_submits(
        &self,
        results: &[SubmitResult],
        retry_delay_ms: i64,
    ) -> Result<Vec<ReceiptOutcome>> {
        let results = results.to_vec();
        self.write("record_submits", move |tx, formats| {
            submits::record(tx, formats, &results, retry_delay_ms)
        })
    }

    fn apply_receipts(&self, receipts: &[ReceiptIn]) -> Result<Vec<ReceiptOutcome>> {
        let receipts = receipts.to_vec();
        self.write("apply_receipts", move |tx, formats| receipts::apply_all(tx, formats, &receipts))
    }

    fn sweep_held_receipts(&self, cutoff: Millis, limit: usize) -> Result<Vec<ReceiptOutcome>> {
        // Called every second: a read on the partial index answers "nothing due" without
        // taking a turn on the writer.
        if !self.read("sweep_held_receipts", |tx| read::any_held_due(tx, cutoff))? {
            return Ok(Vec::new());
        }
        self.write("sweep_held_receipts", move |tx, formats| {
            receipts::sweep(tx, formats, cutoff, limit)
        })
    }

    fn record_mos(&self, mos: &[MoIn], reply_window_ms: i64) -> Result<Vec<MoRecorded>> {
        let mos = mos.to_vec();
        self.write("record_mos", move |tx, _| outbox::record_mos(tx, &mos, reply_window_ms))
    }

    fn message(&self, id: MessageId) -> Result<Option<MessageView>> {
        self.read("message", |tx| read::message(tx, id))
    }

    fn cancel(&self, id: MessageId, now: Millis) -> Result<CancelOutcome> {
        self.write("cancel", move |tx, _| status::cancel(tx, id, now))
    }

    fn expire(&self, now: Millis) -> Result<u64> {
        self.write("expire", move |tx, _| status::expire(tx, now))
    }

    fn recover(&self, now: Millis, resendable: &dyn Fn(&str) -> bool) -> Result<Recovery> {
        // The writer thread cannot borrow `resendable`: it gets the answer for every class
        // that is in flight. Recovery runs at startup, before anything is claimed; a class
        // that appeared meanwhile would be treated as not resendable, the safe side.
        let classes = self.read("recover", read::classes_submitting)?;
        let resend: Vec<String> = classes.into_iter().filter(|c| resendable(c)).collect();
        self.write("recover", move |tx, _| {
            status::recover(tx, now, &|class| resend.iter().any(|c| c == class))
        })
    }

    fn resolve_unknown(
        &self,
        id: MessageId,
        decision: UnknownDecision,
        now: Millis,
    ) -> Result<Option<MessageStatus>> {
        self.write("resolve_unknown", move |tx, _| status::resolve_unknown(tx, id, decision, now))
    }

    fn due_webhooks(&self, now: Millis, limit: usize) -> Result<Vec<WebhookJob>> {
        self.read("due_webhooks", |tx| outbox::due(tx, now, limit))
    }

    fn webhook_delivered(&self, id: i64, now: Millis) -> Result<()> {
        self.write("webhook_delivered", move |tx, _| outbox::delivered(tx, id, now))
    }

    fn webhook_failed(&self, id: i64, next_at: Millis, error: &str) -> Result<()> {
        let error = error.to_owned();
        self.write("webhook_failed", move |tx, _| outbox::failed(tx, id, next_at, &error))
    }

    fn depth(&self) -> Result<Vec<DepthRow>> {
        self.read("depth", read::depth)
    }

    fn backlog(&self) -> Result<u64> {
        self.read("backlog", read::backlog)
    }

    fn configure_id_format(
        &self,
        account: &str,
        pair: Option<smpp_dlr::msgid::ReadingPair>,
    ) -> Result<()> {
        let account = account.to_owned();
        self.write("configure_id_format", move |tx, formats| formats.configure(tx, &account, pair))
    }

    fn held_receipts(&self) -> Result<u64> {
        self.read("held_receipts", read::held_receipts)
    }

    fn put_list_entries(&self, list: ListKind, entries: &[ListEntry]) -> Result<()> {
        let entries = entries.to_vec();
        self.write("put_list_entries", move |tx, _| {
            entries.iter().try_for_each(|e| lists::put(tx, list, e))
        })
    }

    fn remove_list_entry(&self, list: ListKind, number: &str) -> Result<bool> {
        let number = number.to_owned();
        self.write("remove_list_entry", move |tx, _| lists::remove(tx, list, &number))
    }

    fn list_entry(&self, list: ListKind, number: &str) -> Result<Option<ListEntry>> {
        self.read("list_entry", |tx| lists::get(tx, list, number))
    }

    fn list_hits(&self, numbers: &[String]) -> Result<Vec<ListHits>> {
        self.read("list_hits", |tx| numbers.iter().map(|n| lists::hits(tx, n)).collect())
    }

    fn decide_before_send(&self, verdicts: &[BeforeSend], at: Millis) -> Result<u64> {
        let verdicts = verdicts.to_vec();
        self.write("decide_before_send", move |tx, _| presend::decide(tx, &verdicts, at))
    }

    fn reroute(&self, r: &Reroute) -> Result<bool> {
        let r = r.clone();
        self.write("reroute", move |tx, _| presend::reroute(tx, &r))
    }

    fn learn_carrier(&self, number: &str, carrier: &str, at: Millis) -> Result<()> {
        let (number, carrier) = (number.to_owned(), carrier.to_owned());
        self.write("learn_carrier", move |tx, _| presend::learn_carrier(tx, &number, &carrier, at))
    }

    fn learned_carriers(&self) -> Result<Vec<(String, String)>> {
        self.read("learned_carriers", presend::learned_carriers)
    }

    fn create_batch(&self, batch: &NewBatch, by: &str, at: Millis) -> Result<BatchId> {
        let (batch, by) = (batch.clone(), by.to_owned());
        self.write("create_batch", move |tx, _| batches::create(tx, &batch, &by, at))
    }

    fn batch(&self, id: BatchId) -> Result<Option<BatchView>> {
        self.read("batch", |tx| batches::get(tx, id))
    }

    fn batch_rows(&self, id: BatchId, valid: bool, limit: usize) -> Result<Vec<BatchRow>> {
        self.read("batch_rows", |tx| batches::rows(tx, id, valid, limit))
    }

    fn batch_totals(&self, id: BatchId) -> Result<Vec<CarrierTotal>> {
        self.read("batch_totals", |tx| batches::totals(tx, id))
    }

    fn batch_action(
        &self,
        id: BatchId,
        action: &BatchAction,
        by: &str,
        at: Millis,
    ) -> Result<BatchOutcome> {
        let (action, by) = (action.clone(), by.to_owned());
        self.write("batch_action", move |tx, _| batches::act(tx, id, &action, &by, at))
    }

    fn billing_report(&self, from: Millis, to: Millis) -> Result<Vec<BillingRow>> {
        self.read("billing_report", |tx| reports::billing(tx, from, to))
    }

    fn audit_events(&self, id: MessageId) -> Result<Vec<AuditEvent>> {
        self.read("audit_events", |tx| events::of_message(tx, id))
    }

    fn purge_audit(&self, before: Millis) -> Result<u64> {
        self.write("purge_audit", move |tx, _| events::purge(tx, before))
    }

    fn purge_held_receipts(&self, before: Millis, limit: usize) -> Result<u64> {
        self.write("purge_held_receipts", move |tx, _| receipts::purge_held(tx, before, limit))
    }
}
