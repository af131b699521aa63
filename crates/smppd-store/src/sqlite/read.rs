//! Queries for the API and the gauges, on the read connection.

use rusqlite::{OptionalExtension, Row, Transaction};

use super::DbResult;
use crate::{DepthRow, MessageId, MessageView, Millis, SegmentView};

/// A message with its ledger rows, from one snapshot.
pub(super) fn message(tx: &Transaction<'_>, id: MessageId) -> DbResult<Option<MessageView>> {
    let view = tx
        .prepare_cached(
            "SELECT id, status, api_key, client_ref, to_addr, from_addr, class, carrier, segments,
                billable, reason, not_before, deadline, created_at, updated_at, batch_id,
                rerouted_from
             FROM messages WHERE id = ?1",
        )?
        .query_row([id], message_view)
        .optional()?;
    let Some(mut view) = view else { return Ok(None) };
    view.segment_details = tx
        .prepare_cached(
            "SELECT idx, state, account, smsc_id, submit_status, receipt_state, receipt_error,
                submitted_at, receipt_at, sent_at
             FROM segments WHERE message_id = ?1 ORDER BY idx",
        )?
        .query_map([id], segment_view)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(view))
}

fn message_view(row: &Row<'_>) -> rusqlite::Result<MessageView> {
    Ok(MessageView {
        id: row.get(0)?,
        status: row.get(1)?,
        api_key: row.get(2)?,
        client_ref: row.get(3)?,
        to: row.get(4)?,
        from: row.get(5)?,
        class: row.get(6)?,
        carrier: row.get(7)?,
        segments: row.get(8)?,
        billable: row.get(9)?,
        reason: row.get(10)?,
        not_before: row.get(11)?,
        deadline: row.get(12)?,
        created_at: row.get(13)?,
        updated_at: row.get(14)?,
        batch_id: row.get(15)?,
        rerouted_from: row.get(16)?,
        segment_details: Vec::new(),
    })
}

fn segment_view(row: &Row<'_>) -> rusqlite::Result<SegmentView> {
    Ok(SegmentView {
        index: row.get(0)?,
        state: row.get(1)?,
        account: row.get(2)?,
        message_id: row.get(3)?,
        submit_status: row.get(4)?,
        receipt_state: row.get(5)?,
        receipt_error: row.get(6)?,
        submitted_at: row.get(7)?,
        receipt_at: row.get(8)?,
        sent_at: row.get(9)?,
    })
}

/// Message counts per (status, class, carrier), every status including the final ones
/// (totals since the database was created), from the `depth` table the writer keeps.
pub(super) fn depth(tx: &Transaction<'_>) -> DbResult<Vec<DepthRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT status, class, carrier, n FROM depth WHERE n > 0 ORDER BY status, class, carrier",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(DepthRow {
            status: row.get(0)?,
            class: row.get(1)?,
            carrier: row.get(2)?,
            count: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Receipts waiting in `held_receipts`.
pub(super) fn held_receipts(tx: &Transaction<'_>) -> DbResult<u64> {
    let n: i64 =
        tx.prepare_cached("SELECT count(*) FROM held_receipts")?.query_row([], |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Messages `queued`, `held` or `submitting`.
pub(super) fn backlog(tx: &Transaction<'_>) -> DbResult<u64> {
    let n: i64 = tx
        .prepare_cached(
            "SELECT coalesce(sum(n), 0) FROM depth
             WHERE status IN ('queued', 'held', 'submitting')",
        )?
        .query_row([], |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The classes of the messages in flight (`submitting`), for [`super::status::recover`].
pub(super) fn classes_submitting(tx: &Transaction<'_>) -> DbResult<Vec<String>> {
    let classes = tx
        .prepare_cached("SELECT DISTINCT class FROM messages WHERE status = 'submitting'")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(classes)
}

/// Whether a held receipt received at or before `cutoff` waits for its sweep (`held_unchecked`
/// answers it with one seek).
pub(super) fn any_held_due(tx: &Transaction<'_>, cutoff: Millis) -> DbResult<bool> {
    let due = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM held_receipts WHERE NOT checked AND at <= ?1)",
        )?
        .query_row([cutoff], |row| row.get(0))?;
    Ok(due)
}
