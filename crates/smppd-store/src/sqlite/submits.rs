//! Submit results: the ledger row of each segment, then its message's status.

use rusqlite::{params, OptionalExtension, Transaction};

use super::ids::{self, Formats};
use super::{receipts, status, DbResult};
use crate::{ReceiptOutcome, SegmentState, SubmitOutcome, SubmitResult};

/// Records every result in order; returns the outcomes of receipts that were held for the
/// ids just acked.
pub(super) fn record(
    tx: &Transaction<'_>,
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
fn record_one(tx: &Transaction<'_>, r: &SubmitResult, retry_delay_ms: i64) -> DbResult<bool> {
    let state: Option<SegmentState> = tx
        .prepare_cached("SELECT state FROM segments WHERE message_id = ?1 AND idx = ?2")?
        .query_row(params![r.message, r.segment], |row| row.get(0))
        .optional()?;
    // `unknown` is accepted too: a late submit_sm_resp resolves a timed-out segment.
    if !matches!(state, Some(SegmentState::Submitting | SegmentState::Unknown)) {
        return Ok(false);
    }
    let reason = match &r.outcome {
        SubmitOutcome::Acked { smsc_id } => {
            mark_acked(tx, r, smsc_id)?;
            None
        }
        SubmitOutcome::Failed { status, retry: false } => {
            mark(tx, r, SegmentState::Failed, Some(*status))?;
            Some(status_reason(*status, false))
        }
        SubmitOutcome::Failed { status, retry: true } => {
            mark(tx, r, SegmentState::Queued, Some(*status))?;
            postpone(tx, r, retry_delay_ms)?;
            Some(status_reason(*status, true))
        }
        SubmitOutcome::Unknown => {
            mark(tx, r, SegmentState::Unknown, None)?;
            Some("no submit_sm_resp (timeout or connection lost): it may have been sent".into())
        }
    };
    status::refresh(tx, r.message, r.at, reason.as_deref())?;
    Ok(true)
}

fn mark_acked(tx: &Transaction<'_>, r: &SubmitResult, smsc_id: &str) -> DbResult<()> {
    tx.prepare_cached(
        "UPDATE segments SET state = 'acked', account = ?3, smsc_id = ?4, submit_status = NULL,
            sent_at = ?5, submitted_at = ?6
         WHERE message_id = ?1 AND idx = ?2",
    )?
    .execute(params![r.message, r.segment, r.account, smsc_id, r.sent_at, r.at])?;
    ids::index_segment(tx, &r.account, smsc_id, r.message, r.segment)
}

fn mark(
    tx: &Transaction<'_>,
    r: &SubmitResult,
    state: SegmentState,
    submit_status: Option<u32>,
) -> DbResult<()> {
    tx.prepare_cached(
        "UPDATE segments SET state = ?3, account = ?4, submit_status = ?5, sent_at = ?6
         WHERE message_id = ?1 AND idx = ?2",
    )?
    .execute(params![r.message, r.segment, state, r.account, submit_status, r.sent_at])?;
    Ok(())
}

/// A retryable failure: the message is not claimed again before `at + retry_delay_ms`.
fn postpone(tx: &Transaction<'_>, r: &SubmitResult, retry_delay_ms: i64) -> DbResult<()> {
    tx.prepare_cached("UPDATE messages SET not_before = ?2 WHERE id = ?1")?
        .execute(params![r.message, r.at.saturating_add(retry_delay_ms)])?;
    Ok(())
}
