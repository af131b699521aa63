//! Message status: derived from the ledger once a message is claimed, or set by a decision
//! (cancel, expire, recover, the operator). Every change goes through [`set_status`], which
//! also queues the webhook in the same transaction.

use rusqlite::{params, OptionalExtension, Transaction};

use super::outbox::{self, StatusEvent};
use super::tx::Tx;
use super::DbResult;
use crate::{CancelOutcome, MessageId, MessageStatus, Millis, Recovery, UnknownDecision};

/// Why a message left `queued`/`held` by its deadline.
const EXPIRED_REASON: &str = "deadline passed before it was sent";
/// Why a message was cancelled.
const CANCELLED_REASON: &str = "cancelled by the client";
/// Why a `submitting` message became `unknown` at startup.
const CRASH_REASON: &str = "in flight when smppd stopped; it may or may not have been sent";
/// Why a `submitting` message of a resendable class was queued again at startup.
const REQUEUE_REASON: &str = "in flight when smppd stopped; queued again (class may be resent)";
/// Why a message the operator gave up on failed.
const ABANDONED_REASON: &str = "abandoned by operator";

/// A message's segments, counted by where they stand.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct SegmentCounts {
    pub(super) total: u32,
    pub(super) failed: u32,
    pub(super) undelivered: u32,
    pub(super) submitting: u32,
    pub(super) unknown: u32,
    pub(super) queued: u32,
    pub(super) delivered: u32,
}

/// The status a claimed message's ledger implies (see [`super::SqliteStore`] for why
/// `submitting` comes before `unknown` and `queued`).
pub(super) fn derive(c: SegmentCounts) -> MessageStatus {
    if c.failed > 0 {
        MessageStatus::Failed
    } else if c.undelivered > 0 {
        MessageStatus::Undeliverable
    } else if c.submitting > 0 {
        MessageStatus::Submitting
    } else if c.unknown > 0 {
        MessageStatus::Unknown
    } else if c.queued > 0 {
        MessageStatus::Queued
    } else if c.total > 0 && c.delivered == c.total {
        MessageStatus::Delivered
    } else {
        MessageStatus::Submitted
    }
}

/// Whether a message in `status` follows its ledger. `held`, `cancelled`, `expired` and
/// `rejected` were decided, and a late receipt must not undo the decision.
fn follows_ledger(status: MessageStatus) -> bool {
    use MessageStatus::*;
    match status {
        Queued | Submitting | Submitted | Delivered | Undeliverable | Failed | Unknown => true,
        Held | Cancelled | Expired | Rejected => false,
    }
}

/// Message `id`'s status and its segments' counts, in one statement (this runs for every
/// submit result and receipt, on the single writer).
fn status_and_counts(
    tx: &Transaction<'_>,
    id: MessageId,
) -> DbResult<Option<(MessageStatus, SegmentCounts)>> {
    let found = tx
        .prepare_cached(
            "SELECT m.status, count(*),
                    total(s.state = 'failed'),
                    total(s.receipt_final AND NOT s.receipt_delivered),
                    total(s.state = 'submitting'),
                    total(s.state = 'unknown'),
                    total(s.state = 'queued'),
                    total(s.receipt_final AND s.receipt_delivered)
             FROM messages m JOIN segments s ON s.message_id = m.id
             WHERE m.id = ?1 GROUP BY m.id",
        )?
        .query_row([id], |row| {
            // total() returns a float; counts of a message's segments fit u32 exactly.
            let n = |i: usize| row.get::<_, f64>(i).map(|v| v as u32);
            let counts = SegmentCounts {
                total: row.get(1)?,
                failed: n(2)?,
                undelivered: n(3)?,
                submitting: n(4)?,
                unknown: n(5)?,
                queued: n(6)?,
                delivered: n(7)?,
            };
            Ok((row.get(0)?, counts))
        })
        .optional()?;
    Ok(found)
}

/// The current status of message `id`, if it exists.
pub(super) fn current(tx: &Transaction<'_>, id: MessageId) -> DbResult<Option<MessageStatus>> {
    let status = tx
        .prepare_cached("SELECT status FROM messages WHERE id = ?1")?
        .query_row([id], |row| row.get(0))
        .optional()?;
    Ok(status)
}

/// Re-derives message `id`'s status from its ledger after a segment changed, and records the
/// change (with `reason`, and its webhook) if there is one. Returns the status after.
pub(super) fn refresh(
    tx: &Tx<'_>,
    id: MessageId,
    at: Millis,
    reason: Option<&str>,
) -> DbResult<Option<MessageStatus>> {
    let Some((before, counts)) = status_and_counts(tx, id)? else { return Ok(None) };
    if !follows_ledger(before) {
        return Ok(Some(before));
    }
    let after = derive(counts);
    if after != before {
        set_status(tx, id, before, after, at, reason)?;
    }
    Ok(Some(after))
}

/// Moves message `id` from status `from` to `status` at `at`, queuing its webhook; nothing
/// changes if it is not in `from` (so the counts in `depth` stay exact). The reason is kept
/// for statuses that need explaining and cleared for the successful ones.
pub(super) fn set_status(
    tx: &Tx<'_>,
    id: MessageId,
    from: MessageStatus,
    status: MessageStatus,
    at: Millis,
    reason: Option<&str>,
) -> DbResult<()> {
    let reason = match status {
        MessageStatus::Submitting | MessageStatus::Submitted | MessageStatus::Delivered => None,
        _ => reason,
    };
    let mut stmt = tx.prepare_cached(
        "UPDATE messages SET status = ?2, reason = ?3, updated_at = ?4 WHERE id = ?1 AND status = ?5
         RETURNING client_ref, carrier, to_addr, segments, dlr, class",
    )?;
    let mut rows = stmt.query(params![id, status, reason, at, from])?;
    let Some(row) = rows.next()? else { return Ok(()) };
    let (client_ref, carrier, to): (Option<String>, String, String) =
        (row.get(0)?, row.get(1)?, row.get(2)?);
    tx.count_move(from, status, row.get_ref(5)?.as_str()?, &carrier);
    let event = StatusEvent {
        id,
        status,
        client_ref: client_ref.as_deref(),
        carrier: &carrier,
        to: &to,
        segments: row.get(3)?,
        reason,
        dlr: row.get(4)?,
        at,
    };
    outbox::queue_status(tx, &event)
}

/// Cancels a `queued` or `held` message; its ledger rows stay `queued` (never sent).
pub(super) fn cancel(tx: &Tx<'_>, id: MessageId, now: Millis) -> DbResult<CancelOutcome> {
    Ok(match current(tx, id)? {
        None => CancelOutcome::NotFound,
        Some(from @ (MessageStatus::Queued | MessageStatus::Held)) => {
            set_status(tx, id, from, MessageStatus::Cancelled, now, Some(CANCELLED_REASON))?;
            CancelOutcome::Cancelled
        }
        Some(status) => CancelOutcome::NotCancellable(status),
    })
}

/// Expires every waiting message whose deadline is at or before `now`.
pub(super) fn expire(tx: &Tx<'_>, now: Millis) -> DbResult<u64> {
    // The WHERE clause repeats messages_deadline's, so that partial index serves it.
    let ids: Vec<(MessageId, MessageStatus)> = tx
        .prepare_cached(
            "SELECT id, status FROM messages
             WHERE status IN ('queued', 'held') AND deadline IS NOT NULL AND deadline <= ?1",
        )?
        .query_map([now], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for &(id, from) in &ids {
        set_status(tx, id, from, MessageStatus::Expired, now, Some(EXPIRED_REASON))?;
    }
    Ok(ids.len() as u64)
}

/// Startup: every `submitting` segment becomes `queued` (resendable class) or `unknown`, and
/// its message follows.
pub(super) fn recover(
    tx: &Tx<'_>,
    now: Millis,
    resendable: &dyn Fn(&str) -> bool,
) -> DbResult<Recovery> {
    let in_flight: Vec<(MessageId, String)> = tx
        .prepare_cached("SELECT id, class FROM messages WHERE status = 'submitting'")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut recovery = Recovery::default();
    for (id, class) in in_flight {
        let (target, reason) =
            if resendable(&class) { ("queued", REQUEUE_REASON) } else { ("unknown", CRASH_REASON) };
        tx.prepare_cached(
            "UPDATE segments SET state = ?2 WHERE message_id = ?1 AND state = 'submitting'",
        )?
        .execute(params![id, target])?;
        match refresh(tx, id, now, Some(reason))? {
            Some(MessageStatus::Queued) => recovery.requeued += 1,
            Some(MessageStatus::Unknown) => recovery.unknown += 1,
            _ => {}
        }
    }
    Ok(recovery)
}

/// The operator's decision for an `unknown` message.
pub(super) fn resolve_unknown(
    tx: &Tx<'_>,
    id: MessageId,
    decision: UnknownDecision,
    now: Millis,
) -> DbResult<Option<MessageStatus>> {
    if current(tx, id)? != Some(MessageStatus::Unknown) {
        return Ok(None);
    }
    let (segment_state, reason) = match decision {
        UnknownDecision::Resend => ("queued", Some("resent by operator")),
        UnknownDecision::Abandon => ("failed", Some(ABANDONED_REASON)),
    };
    tx.prepare_cached(
        "UPDATE segments SET state = ?2 WHERE message_id = ?1 AND state = 'unknown'",
    )?
    .execute(params![id, segment_state])?;
    if decision == UnknownDecision::Resend {
        tx.prepare_cached("UPDATE messages SET not_before = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
    }
    refresh(tx, id, now, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(total: u32) -> SegmentCounts {
        SegmentCounts { total, ..SegmentCounts::default() }
    }

    #[test]
    fn failure_outranks_everything_and_in_flight_outranks_unknown() {
        let c = SegmentCounts { failed: 1, submitting: 1, unknown: 1, ..one(3) };
        assert_eq!(derive(c), MessageStatus::Failed);
        let c = SegmentCounts { submitting: 1, unknown: 1, queued: 1, ..one(3) };
        assert_eq!(derive(c), MessageStatus::Submitting);
        let c = SegmentCounts { unknown: 1, queued: 1, ..one(3) };
        assert_eq!(derive(c), MessageStatus::Unknown);
        let c = SegmentCounts { queued: 1, ..one(3) };
        assert_eq!(derive(c), MessageStatus::Queued);
    }

    #[test]
    fn receipts_decide_once_everything_is_acked() {
        assert_eq!(derive(one(2)), MessageStatus::Submitted);
        assert_eq!(derive(SegmentCounts { delivered: 1, ..one(2) }), MessageStatus::Submitted);
        assert_eq!(derive(SegmentCounts { delivered: 2, ..one(2) }), MessageStatus::Delivered);
        let c = SegmentCounts { delivered: 1, undelivered: 1, ..one(2) };
        assert_eq!(derive(c), MessageStatus::Undeliverable);
    }
}
