//! Between claim and submit: the pre-send check's verdicts, and the re-route of a message a
//! carrier refused as not its subscriber.

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::json;

use super::tx::Tx;
use super::{events, status, DbResult};
use crate::{BeforeSend, MessageId, MessageStatus, Millis, Reroute};

/// Applies each verdict to its message if it is still `submitting`; returns how many.
pub(super) fn decide(tx: &Tx<'_>, verdicts: &[BeforeSend], at: Millis) -> DbResult<u64> {
    let mut changed = 0;
    for v in verdicts {
        let message = match v {
            BeforeSend::Reject { message, .. } | BeforeSend::Hold { message, .. } => *message,
        };
        if status::current(tx, message)? != Some(MessageStatus::Submitting) {
            continue;
        }
        unclaim_segments(tx, message)?;
        match v {
            BeforeSend::Reject { reason, .. } => {
                let from = MessageStatus::Submitting;
                status::set_status(tx, message, from, MessageStatus::Rejected, at, Some(reason))?;
                let detail = json!({ "reason": reason });
                events::record(tx, message, at, "rejected_before_send", None, &detail)?;
            }
            BeforeSend::Hold { until, reason, .. } => {
                let (class, carrier): (String, String) = tx
                    .prepare_cached(
                        "UPDATE messages SET status = 'held', not_before = ?2, reason = ?3,
                            account = NULL, updated_at = ?4 WHERE id = ?1
                         RETURNING class, carrier",
                    )?
                    .query_row(params![message, until, reason, at], |row| {
                        Ok((row.get(0)?, row.get(1)?))
                    })?;
                tx.count_move(MessageStatus::Submitting, MessageStatus::Held, &class, &carrier);
                let detail = json!({ "until": until, "reason": reason });
                events::record(tx, message, at, "held", None, &detail)?;
            }
        }
        changed += 1;
    }
    Ok(changed)
}

/// The claim's `submitting` segments go back to `queued`: nothing was written for them.
fn unclaim_segments(tx: &Tx<'_>, message: MessageId) -> DbResult<()> {
    tx.prepare_cached(
        "UPDATE segments SET state = 'queued', account = NULL
         WHERE message_id = ?1 AND state = 'submitting'",
    )?
    .execute([message])?;
    Ok(())
}

/// Moves the message to `r.to_carrier` and queues it again, once.
pub(super) fn reroute(tx: &Tx<'_>, r: &Reroute) -> DbResult<bool> {
    let found: Option<(MessageStatus, Option<String>, String)> = tx
        .prepare_cached("SELECT status, rerouted_from, carrier FROM messages WHERE id = ?1")?
        .query_row([r.message], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .optional()?;
    match found {
        Some((MessageStatus::Submitting, None, carrier)) if carrier == r.from_carrier => {}
        _ => return Ok(false),
    }
    // A segment that was (or may have been) accepted by the first carrier would be sent
    // twice: such a message takes the ordinary failure path instead.
    let sent: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM segments
                WHERE message_id = ?1 AND state IN ('acked', 'unknown'))",
        )?
        .query_row([r.message], |row| row.get(0))?;
    if sent {
        return Ok(false);
    }
    rebuild_ledger(tx, r.message, r.segments.max(1))?;
    let reason = format!(
        "re-routed from {} (submit_sm_resp status 0x{:08X}: not its subscriber)",
        r.from_carrier, r.status
    );
    let class: String = tx
        .prepare_cached(
            "UPDATE messages SET carrier = ?2, segments = ?3, billable = ?4, rerouted_from = ?5,
                status = 'queued', account = NULL, not_before = ?6, reason = ?7, updated_at = ?6
             WHERE id = ?1
             RETURNING class",
        )?
        .query_row(
            params![
                r.message,
                r.to_carrier,
                r.segments.max(1),
                r.billable,
                r.from_carrier,
                r.at,
                reason
            ],
            |row| row.get(0),
        )?;
    tx.count(MessageStatus::Submitting, &class, &r.from_carrier, -1);
    tx.count(MessageStatus::Queued, &class, &r.to_carrier, 1);
    let detail = json!({ "from": r.from_carrier, "to": r.to_carrier, "status": r.status });
    events::record(tx, r.message, r.at, "rerouted", None, &detail)?;
    Ok(true)
}

/// Replaces the message's ledger with `segments` fresh `queued` rows: the new carrier may
/// split the text differently.
fn rebuild_ledger(tx: &Tx<'_>, message: MessageId, segments: u32) -> DbResult<()> {
    tx.prepare_cached("DELETE FROM segments WHERE message_id = ?1")?.execute([message])?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO segments (message_id, idx, state) VALUES (?1, ?2, 'queued')",
    )?;
    for idx in 0..segments {
        insert.execute(params![message, idx])?;
    }
    Ok(())
}

/// Records the carrier learned for `number`, replacing an older lesson.
pub(super) fn learn_carrier(tx: &Tx<'_>, number: &str, carrier: &str, at: Millis) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO carriers_learned (number, carrier, at) VALUES (?1, ?2, ?3)
         ON CONFLICT (number) DO UPDATE SET carrier = excluded.carrier, at = excluded.at",
    )?
    .execute(params![number, carrier, at])?;
    Ok(())
}

/// Every learned (number, carrier), oldest lesson first.
pub(super) fn learned_carriers(tx: &Transaction<'_>) -> DbResult<Vec<(String, String)>> {
    let rows = tx
        .prepare_cached("SELECT number, carrier FROM carriers_learned ORDER BY at, number")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
