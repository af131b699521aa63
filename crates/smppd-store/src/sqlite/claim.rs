//! Claiming due messages for a sender.
//!
//! Each priority is read as its own range of `messages_claim` (carrier, priority,
//! not_before): the scan stops at the first message not yet due. One ORDER BY over all
//! priorities could not stop there, and would walk every message held for later (a night's
//! quiet-hours backlog) on every claim. Priorities are few; finding the next one is a seek.

use rusqlite::{params, OptionalExtension};

use super::tx::Tx;
use super::DbResult;
use crate::{Claimed, MessageId, MessageStatus, Millis};

/// Claims up to `limit` due messages of `carrier` for `account`, by (priority, not_before,
/// id), marking them and their `queued` segments `submitting`.
pub(super) fn claim(
    tx: &Tx<'_>,
    carrier: &str,
    account: &str,
    now: Millis,
    limit: usize,
) -> DbResult<Vec<Claimed>> {
    let mut claimed = Vec::new();
    let mut was = Vec::new();
    let mut after = i64::MIN;
    while claimed.len() < limit {
        let Some(priority) = next_priority(tx, carrier, after)? else { break };
        let wanted = limit - claimed.len();
        for (message, status) in due_at_priority(tx, carrier, priority, now, wanted)? {
            claimed.push(message);
            was.push(status);
        }
        after = priority;
    }
    take(tx, &mut claimed, account, now)?;
    for (message, status) in claimed.iter().zip(was) {
        tx.count_move(status, MessageStatus::Submitting, &message.class, carrier);
    }
    Ok(claimed)
}

/// The lowest priority above `after` among `carrier`'s waiting messages.
fn next_priority(tx: &Tx<'_>, carrier: &str, after: i64) -> DbResult<Option<i64>> {
    // The status test repeats messages_claim's WHERE clause so the planner may use it.
    let priority = tx
        .prepare_cached(
            "SELECT min(priority) FROM messages
             WHERE carrier = ?1 AND status IN ('queued', 'held') AND priority > ?2",
        )?
        .query_row(params![carrier, after], |row| row.get::<_, Option<i64>>(0))
        .optional()?;
    Ok(priority.flatten())
}

/// Up to `limit` messages of one priority that are due and not past their deadline, with
/// their status (`queued` or `held`).
fn due_at_priority(
    tx: &Tx<'_>,
    carrier: &str,
    priority: i64,
    now: Millis,
    limit: usize,
) -> DbResult<Vec<(Claimed, MessageStatus)>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = tx.prepare_cached(
        "SELECT id, to_addr, from_addr, text, class, dlr, deadline, segments,
                rerouted_from IS NOT NULL, status
         FROM messages
         WHERE carrier = ?1 AND status IN ('queued', 'held') AND priority = ?2
           AND not_before <= ?3 AND (deadline IS NULL OR deadline > ?3)
         ORDER BY not_before, id LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![carrier, priority, now, limit], |row| {
        let claimed = Claimed {
            id: row.get(0)?,
            to: row.get(1)?,
            from: row.get(2)?,
            text: row.get(3)?,
            class: row.get(4)?,
            dlr: row.get(5)?,
            deadline: row.get(6)?,
            segments: row.get(7)?,
            pending: Vec::new(),
            rerouted: row.get(8)?,
        };
        Ok((claimed, row.get(9)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks the `claimed` messages `submitting` on `account`, and their `queued` segments with
/// them; fills in each message's `pending` segments, ascending. Two statements for the whole
/// claim, the ids passed as one JSON array, rather than two per message.
fn take(tx: &Tx<'_>, claimed: &mut [Claimed], account: &str, now: Millis) -> DbResult<()> {
    if claimed.is_empty() {
        return Ok(());
    }
    let ids = claimed.iter().map(|m| m.id.to_string()).collect::<Vec<_>>().join(",");
    let ids = format!("[{ids}]");
    // Straight UPDATE rather than status::set_status: `submitting` never notifies, and the
    // reason (why it was held, or the last retryable error) stays visible while it is sent.
    tx.prepare_cached(
        "UPDATE messages SET status = 'submitting', account = ?2, updated_at = ?3
         WHERE id IN (SELECT value FROM json_each(?1))",
    )?
    .execute(params![ids, account, now])?;
    let mut stmt = tx.prepare_cached(
        "UPDATE segments SET state = 'submitting', account = ?2
         WHERE message_id IN (SELECT value FROM json_each(?1)) AND state = 'queued'
         RETURNING message_id, idx",
    )?;
    let mut pending: Vec<(MessageId, u32)> = stmt
        .query_map(params![ids, account], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    pending.sort_unstable();
    // `claimed` is in claim order, not id order: find each message's run of segments.
    for message in claimed.iter_mut() {
        let start = pending.partition_point(|&(id, _)| id < message.id);
        let end = pending.partition_point(|&(id, _)| id <= message.id);
        message.pending = pending[start..end].iter().map(|&(_, idx)| idx).collect();
    }
    Ok(())
}
