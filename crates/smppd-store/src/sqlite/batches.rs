//! CSV batches: their checked rows, the maker-checker workflow, and pause, resume and cancel
//! of their messages.
//!
//! A paused batch's waiting messages become `held` until [`PAUSED_UNTIL`], which claims never
//! reach; what they were (status, not_before, reason) is kept in `paused` and put back on
//! resume. Their deadlines still apply while paused, and each one can still be cancelled.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{params, OptionalExtension, Row, Transaction};

use super::tx::Tx;
use super::{accept, status, DbResult};
use crate::{
    BatchAction, BatchId, BatchOutcome, BatchRow, BatchStatus, BatchView, CarrierTotal, MessageId,
    MessageStatus, Millis, NewBatch, NewMessage,
};

/// 9999-12-31T23:59:59Z: the not_before of a paused batch's messages.
const PAUSED_UNTIL: Millis = 253_402_300_799_000;

impl ToSql for BatchStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for BatchStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        BatchStatus::parse(text).ok_or_else(|| {
            FromSqlError::Other(format!("unknown batch status {text:?} in the database").into())
        })
    }
}

/// Stores a new draft and its rows.
pub(super) fn create(tx: &Tx<'_>, b: &NewBatch, by: &str, at: Millis) -> DbResult<BatchId> {
    let id: BatchId = tx
        .prepare_cached(
            "INSERT INTO batches (name, class, from_addr, template, number_column, send_at,
                deadline, status, created_by, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'draft', ?8, ?9, ?9) RETURNING id",
        )?
        .query_row(
            params![
                b.name,
                b.class,
                b.from,
                b.template,
                b.number_column,
                b.send_at,
                b.deadline,
                by,
                at
            ],
            |row| row.get(0),
        )?;
    insert_rows(tx, id, &b.rows)?;
    Ok(id)
}

fn insert_rows(tx: &Tx<'_>, id: BatchId, rows: &[BatchRow]) -> DbResult<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO batch_rows (batch_id, line, to_addr, text, carrier, segments, billable,
            errors)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for r in rows {
        let errors =
            if r.errors.is_empty() { None } else { Some(serde_json::to_string(&r.errors)?) };
        insert.execute(params![
            id, r.line, r.to, r.text, r.carrier, r.segments, r.billable, errors
        ])?;
    }
    Ok(())
}

/// The batch with row and message counts.
pub(super) fn get(tx: &Transaction<'_>, id: BatchId) -> DbResult<Option<BatchView>> {
    let view = tx
        .prepare_cached(
            "SELECT id, name, class, from_addr, template, number_column, send_at, deadline,
                status, created_by, created_at, edited_by, edited_at, submitted_by,
                submitted_at, approved_by, approved_at, rejected_by, rejected_at,
                reject_reason, cancelled_by, cancelled_at, updated_at, revision
             FROM batches WHERE id = ?1",
        )?
        .query_row([id], batch_view)
        .optional()?;
    let Some(mut view) = view else { return Ok(None) };
    (view.rows_total, view.rows_valid) = tx
        .prepare_cached(
            "SELECT count(*), coalesce(sum(errors IS NULL), 0) FROM batch_rows
             WHERE batch_id = ?1",
        )?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    view.messages = tx
        .prepare_cached(
            "SELECT status, count(*) FROM messages WHERE batch_id = ?1 GROUP BY status
             ORDER BY status",
        )?
        .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let waiting = view.messages.iter().any(|(s, _)| is_waiting(*s));
    view.status = effective(view.status, waiting);
    Ok(Some(view))
}

fn batch_view(row: &Row<'_>) -> rusqlite::Result<BatchView> {
    Ok(BatchView {
        id: row.get(0)?,
        name: row.get(1)?,
        class: row.get(2)?,
        from: row.get(3)?,
        template: row.get(4)?,
        number_column: row.get(5)?,
        send_at: row.get(6)?,
        deadline: row.get(7)?,
        status: row.get(8)?,
        created_by: row.get(9)?,
        created_at: row.get(10)?,
        edited_by: row.get(11)?,
        edited_at: row.get(12)?,
        submitted_by: row.get(13)?,
        submitted_at: row.get(14)?,
        approved_by: row.get(15)?,
        approved_at: row.get(16)?,
        rejected_by: row.get(17)?,
        rejected_at: row.get(18)?,
        reject_reason: row.get(19)?,
        cancelled_by: row.get(20)?,
        cancelled_at: row.get(21)?,
        updated_at: row.get(22)?,
        revision: row.get(23)?,
        rows_total: 0,
        rows_valid: 0,
        messages: Vec::new(),
    })
}

fn is_waiting(s: MessageStatus) -> bool {
    matches!(s, MessageStatus::Queued | MessageStatus::Held | MessageStatus::Submitting)
}

/// A running batch with nothing waiting is done; that is derived, never stored, so a
/// message requeued later (an operator's resend) makes it running again.
fn effective(stored: BatchStatus, waiting: bool) -> BatchStatus {
    if stored == BatchStatus::Running && !waiting {
        BatchStatus::Done
    } else {
        stored
    }
}

/// Up to `limit` valid rows, or rows with errors, in file order.
pub(super) fn rows(
    tx: &Transaction<'_>,
    id: BatchId,
    valid: bool,
    limit: usize,
) -> DbResult<Vec<BatchRow>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = tx.prepare_cached(
        "SELECT line, to_addr, text, carrier, segments, billable, errors FROM batch_rows
         WHERE batch_id = ?1 AND (errors IS NULL) = ?2 ORDER BY line LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![id, valid, limit], |row| {
        let errors: Option<String> = row.get(6)?;
        Ok((
            BatchRow {
                line: row.get(0)?,
                to: row.get(1)?,
                text: row.get(2)?,
                carrier: row.get(3)?,
                segments: row.get(4)?,
                billable: row.get(5)?,
                errors: Vec::new(),
            },
            errors,
        ))
    })?;
    let mut out = Vec::new();
    for r in rows {
        let (mut row, errors) = r?;
        if let Some(e) = errors {
            row.errors = serde_json::from_str(&e)?;
        }
        out.push(row);
    }
    Ok(out)
}

/// Per-carrier totals of the valid rows.
pub(super) fn totals(tx: &Transaction<'_>, id: BatchId) -> DbResult<Vec<CarrierTotal>> {
    let mut stmt = tx.prepare_cached(
        "SELECT carrier, count(*), sum(segments), sum(billable) FROM batch_rows
         WHERE batch_id = ?1 AND errors IS NULL GROUP BY carrier ORDER BY carrier",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok(CarrierTotal {
            carrier: row.get(0)?,
            messages: row.get(1)?,
            segments: row.get(2)?,
            billable: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What the workflow needs to know about a batch before a step.
struct Current {
    status: BatchStatus,
    created_by: String,
    edited_by: Option<String>,
    revision: u64,
}

fn current(tx: &Tx<'_>, id: BatchId) -> DbResult<Option<Current>> {
    let found = tx
        .prepare_cached(
            "SELECT status, created_by, edited_by, revision FROM batches WHERE id = ?1",
        )?
        .query_row([id], |row| {
            Ok(Current {
                status: row.get(0)?,
                created_by: row.get(1)?,
                edited_by: row.get(2)?,
                revision: row.get(3)?,
            })
        })
        .optional()?;
    let Some(mut c) = found else { return Ok(None) };
    let waiting: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages
                WHERE batch_id = ?1 AND status IN ('queued', 'held', 'submitting'))",
        )?
        .query_row([id], |row| row.get(0))?;
    c.status = effective(c.status, waiting);
    Ok(Some(c))
}

/// One workflow step, if the batch's status allows it.
pub(super) fn act(
    tx: &Tx<'_>,
    id: BatchId,
    action: &BatchAction,
    by: &str,
    at: Millis,
) -> DbResult<BatchOutcome> {
    use BatchStatus::*;
    let Some(c) = current(tx, id)? else { return Ok(BatchOutcome::NotFound) };
    let prepared_from = match action {
        BatchAction::Submit { revision, .. } | BatchAction::Approve { revision, .. } => {
            Some(*revision)
        }
        _ => None,
    };
    if prepared_from.is_some_and(|r| r != c.revision) {
        // Messages built from rows an edit has replaced must not be queued.
        return Ok(BatchOutcome::Changed { revision: c.revision });
    }
    let next = match (action, c.status) {
        (BatchAction::Submit { requires_approval, messages, .. }, Draft) => {
            submit(tx, id, by, at, *requires_approval, messages)?
        }
        (BatchAction::Approve { messages, .. }, PendingApproval) => {
            if c.created_by == by || c.edited_by.as_deref() == Some(by) {
                return Ok(BatchOutcome::SameOperator);
            }
            approve(tx, id, by, at, messages)?
        }
        (BatchAction::Reject { reason }, PendingApproval) => reject(tx, id, by, at, reason)?,
        (BatchAction::Edit(b), Draft | PendingApproval) => edit(tx, id, by, at, b)?,
        (BatchAction::Pause, Running) => pause(tx, id, by, at)?,
        (BatchAction::Resume, Paused) => resume(tx, id, by, at)?,
        (BatchAction::Cancel, Draft | PendingApproval | Running | Paused) => {
            cancel(tx, id, by, at)?
        }
        (_, status) => return Ok(BatchOutcome::Conflict(status)),
    };
    Ok(BatchOutcome::Applied(next))
}

fn set_status(tx: &Tx<'_>, id: BatchId, status: BatchStatus, at: Millis) -> DbResult<()> {
    tx.prepare_cached("UPDATE batches SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status, at])?;
    Ok(())
}

fn enqueue(tx: &Tx<'_>, messages: &[NewMessage]) -> DbResult<()> {
    for m in messages {
        accept::accept_one(tx, m)?;
    }
    Ok(())
}

fn submit(
    tx: &Tx<'_>,
    id: BatchId,
    by: &str,
    at: Millis,
    requires_approval: bool,
    messages: &[NewMessage],
) -> DbResult<BatchStatus> {
    tx.prepare_cached("UPDATE batches SET submitted_by = ?2, submitted_at = ?3 WHERE id = ?1")?
        .execute(params![id, by, at])?;
    let next = if requires_approval {
        BatchStatus::PendingApproval
    } else {
        enqueue(tx, messages)?;
        BatchStatus::Running
    };
    set_status(tx, id, next, at)?;
    Ok(next)
}

fn approve(
    tx: &Tx<'_>,
    id: BatchId,
    by: &str,
    at: Millis,
    messages: &[NewMessage],
) -> DbResult<BatchStatus> {
    tx.prepare_cached("UPDATE batches SET approved_by = ?2, approved_at = ?3 WHERE id = ?1")?
        .execute(params![id, by, at])?;
    enqueue(tx, messages)?;
    set_status(tx, id, BatchStatus::Running, at)?;
    Ok(BatchStatus::Running)
}

fn reject(
    tx: &Tx<'_>,
    id: BatchId,
    by: &str,
    at: Millis,
    reason: &Option<String>,
) -> DbResult<BatchStatus> {
    tx.prepare_cached(
        "UPDATE batches SET rejected_by = ?2, rejected_at = ?3, reject_reason = ?4,
            submitted_by = NULL, submitted_at = NULL WHERE id = ?1",
    )?
    .execute(params![id, by, at, reason])?;
    set_status(tx, id, BatchStatus::Draft, at)?;
    Ok(BatchStatus::Draft)
}

fn edit(tx: &Tx<'_>, id: BatchId, by: &str, at: Millis, b: &NewBatch) -> DbResult<BatchStatus> {
    tx.prepare_cached(
        "UPDATE batches SET name = ?2, class = ?3, from_addr = ?4, template = ?5,
            number_column = ?6, send_at = ?7, deadline = ?8, edited_by = ?9, edited_at = ?10,
            submitted_by = NULL, submitted_at = NULL, revision = revision + 1
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        b.name,
        b.class,
        b.from,
        b.template,
        b.number_column,
        b.send_at,
        b.deadline,
        by,
        at
    ])?;
    tx.prepare_cached("DELETE FROM batch_rows WHERE batch_id = ?1")?.execute([id])?;
    insert_rows(tx, id, &b.rows)?;
    set_status(tx, id, BatchStatus::Draft, at)?;
    Ok(BatchStatus::Draft)
}

/// The messages a paused batch holds (its rows in `paused`), for [`Tx::recounting`].
const PAUSED_IDS: &str = "SELECT message_id FROM paused WHERE batch_id = ?1";

fn pause(tx: &Tx<'_>, id: BatchId, by: &str, at: Millis) -> DbResult<BatchStatus> {
    tx.prepare_cached(
        "INSERT INTO paused (message_id, batch_id, status, not_before, reason)
         SELECT id, batch_id, status, not_before, reason FROM messages
         WHERE batch_id = ?1 AND status IN ('queued', 'held')",
    )?
    .execute([id])?;
    let reason = format!("batch {id} paused");
    tx.recounting(PAUSED_IDS, [id], || {
        tx.prepare_cached(
            "UPDATE messages SET status = 'held', not_before = ?2, reason = ?3, updated_at = ?4
             WHERE id IN (SELECT message_id FROM paused WHERE batch_id = ?1)",
        )?
        .execute(params![id, PAUSED_UNTIL, reason, at])?;
        Ok(())
    })?;
    record_for_paused(tx, id, "paused", by, at)?;
    set_status(tx, id, BatchStatus::Paused, at)?;
    Ok(BatchStatus::Paused)
}

fn record_for_paused(tx: &Tx<'_>, id: BatchId, kind: &str, by: &str, at: Millis) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO events (message_id, at, kind, actor)
         SELECT message_id, ?2, ?3, ?4 FROM paused WHERE batch_id = ?1",
    )?
    .execute(params![id, at, kind, by])?;
    Ok(())
}

/// Puts back what the paused messages were. Those cancelled or expired meanwhile stay so.
/// One that is now due inside its quiet hours is held again by the sender's pre-send check.
fn resume(tx: &Tx<'_>, id: BatchId, by: &str, at: Millis) -> DbResult<BatchStatus> {
    record_for_paused(tx, id, "resumed", by, at)?;
    tx.recounting(PAUSED_IDS, [id], || {
        tx.prepare_cached(
            "UPDATE messages SET status = p.status, not_before = p.not_before, reason = p.reason,
                updated_at = ?2
             FROM paused AS p
             WHERE p.message_id = messages.id AND p.batch_id = ?1 AND messages.status = 'held'",
        )?
        .execute(params![id, at])?;
        Ok(())
    })?;
    tx.prepare_cached("DELETE FROM paused WHERE batch_id = ?1")?.execute([id])?;
    set_status(tx, id, BatchStatus::Running, at)?;
    Ok(BatchStatus::Running)
}

fn cancel(tx: &Tx<'_>, id: BatchId, by: &str, at: Millis) -> DbResult<BatchStatus> {
    let waiting: Vec<(MessageId, MessageStatus)> = tx
        .prepare_cached(
            "SELECT id, status FROM messages
             WHERE batch_id = ?1 AND status IN ('queued', 'held')",
        )?
        .query_map([id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let reason = format!("batch {id} cancelled by {by}");
    for (message, from) in waiting {
        let to = MessageStatus::Cancelled;
        status::set_status(tx, message, from, to, at, Some(&reason))?;
    }
    tx.prepare_cached("DELETE FROM paused WHERE batch_id = ?1")?.execute([id])?;
    tx.prepare_cached("UPDATE batches SET cancelled_by = ?2, cancelled_at = ?3 WHERE id = ?1")?
        .execute(params![id, by, at])?;
    set_status(tx, id, BatchStatus::Cancelled, at)?;
    Ok(BatchStatus::Cancelled)
}
