//! Submit results: the ledger row of each segment, then its message's status.

use rusqlite::params;

use super::ids::{self, Formats};
use super::tx::Tx;
use super::{receipts, status, DbResult};
use crate::{ReceiptOutcome, SegmentState, SubmitOutcome, SubmitResult};

/// Records every result in order; returns the outcomes of receipts that were held for the
/// ids just acked.
pub(super) fn record(
    tx: &Tx<'_>,
    formats: &mut Formats,
    results: &[SubmitResult],
    retry_delay_ms: i64,
) -> DbResult<Vec<ReceiptOutcome>> {
    // Held receipts are rare; when there are none, acks skip looking for them.
    let any_held = receipts::any_held(tx)?;
    let mut outcomes = Vec::new();
    for result in results {
        if !record_one(tx, result, retry_delay_ms)? {
            continue;
        }
        if let (true, SubmitOutcome::Acked { smsc_id }) = (any_held, &result.outcome) {
            let matched = receipts::match_held(
                tx,
                formats,
                &result.account,
                smsc_id,
                result.message,
                result.segment,
            )?;
            outcomes.extend(matched);
        }
    }
    Ok(outcomes)
}

/// The submit_sm_resp status as people read it in SMPP logs.
fn status_reason(status: u32, retry: bool) -> String {
    let then = if retry { ", will retry" } else { "" };
    format!("submit_sm_resp status 0x{status:08X}{then}")
}

/// Records one result; `false` when it was ignored (no such segment, or the segment was not
/// waiting for a result: a repeat).
fn record_one(tx: &Tx<'_>, r: &SubmitResult, retry_delay_ms: i64) -> DbResult<bool> {
    // Each update only applies to a segment waiting for its result (`unknown` too: a late
    // submit_sm_resp resolves a timed-out segment), so it is also the check: no row changed
    // means a repeat or an unknown segment, ignored.
    let reason = match &r.outcome {
        SubmitOutcome::Acked { smsc_id } => {
            if !mark_acked(tx, r, smsc_id)? {
                return Ok(false);
            }
            None
        }
        SubmitOutcome::Failed { status, retry: false } => {
            if !mark(tx, r, SegmentState::Failed, Some(*status))? {
                return Ok(false);
            }
            Some(status_reason(*status, false))
        }
        SubmitOutcome::Failed { status, retry: true } => {
            if !mark(tx, r, SegmentState::Queued, Some(*status))? {
                return Ok(false);
            }
            postpone(tx, r, retry_delay_ms)?;
            Some(status_reason(*status, true))
        }
        SubmitOutcome::Unknown => {
            if !mark(tx, r, SegmentState::Unknown, None)? {
                return Ok(false);
            }
            Some("no submit_sm_resp (timeout or connection lost): it may have been sent".into())
        }
    };
    status::refresh(tx, r.message, r.at, reason.as_deref())?;
    Ok(true)
}

/// Marks the segment acked and indexes its id; `false` if it was not waiting for a result.
fn mark_acked(tx: &Tx<'_>, r: &SubmitResult, smsc_id: &str) -> DbResult<bool> {
    let changed = tx
        .prepare_cached(
            "UPDATE segments SET state = 'acked', account = ?3, smsc_id = ?4, submit_status = NULL,
                sent_at = ?5, submitted_at = ?6
             WHERE message_id = ?1 AND idx = ?2 AND state IN ('submitting', 'unknown')",
        )?
        .execute(params![r.message, r.segment, r.account, smsc_id, r.sent_at, r.at])?;
    if changed == 0 {
        return Ok(false);
    }
    ids::index_segment(tx, &r.account, smsc_id, r.message, r.segment)?;
    Ok(true)
}

/// Moves the segment to `state`; `false` if it was not waiting for a result.
fn mark(
    tx: &Tx<'_>,
    r: &SubmitResult,
    state: SegmentState,
    submit_status: Option<u32>,
) -> DbResult<bool> {
    let changed = tx
        .prepare_cached(
            "UPDATE segments SET state = ?3, account = ?4, submit_status = ?5, sent_at = ?6
             WHERE message_id = ?1 AND idx = ?2 AND state IN ('submitting', 'unknown')",
        )?
        .execute(params![r.message, r.segment, state, r.account, submit_status, r.sent_at])?;
    Ok(changed > 0)
}

/// A retryable failure: the message is not claimed again before `at + retry_delay_ms`.
fn postpone(tx: &Tx<'_>, r: &SubmitResult, retry_delay_ms: i64) -> DbResult<()> {
    tx.prepare_cached("UPDATE messages SET not_before = ?2 WHERE id = ?1")?
        .execute(params![r.message, r.at.saturating_add(retry_delay_ms)])?;
    Ok(())
}
