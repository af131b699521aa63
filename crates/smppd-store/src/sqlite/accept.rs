//! Accepting messages: the row, its `queued` ledger rows, idempotency.

use rusqlite::{params, OptionalExtension};

use serde_json::json;

use super::events;
use super::outbox::{self, StatusEvent};
use super::tx::Tx;
use super::DbResult;
use crate::{Accepted, MessageId, MessageStatus, NewMessage};

/// Stores each message (or finds its earlier copy), in input order.
pub(super) fn accept(tx: &Tx<'_>, messages: &[NewMessage]) -> DbResult<Vec<Accepted>> {
    messages.iter().map(|m| accept_one(tx, m)).collect()
}

pub(super) fn accept_one(tx: &Tx<'_>, m: &NewMessage) -> DbResult<Accepted> {
    // Rows inserted earlier in this transaction are visible here, so a repeat within one
    // slice is found the same way as one from an earlier request.
    if let Some(key) = &m.idempotency_key {
        if let Some(earlier) = find_repeat(tx, &m.api_key, key)? {
            return Ok(earlier);
        }
    }
    // Even an empty text goes out as one SMS: a message always has a ledger row.
    let segments = m.segments.max(1);
    let id: i64 = tx
        .prepare_cached(
            "INSERT INTO messages (api_key, idem_key, client_ref, to_addr, from_addr, text, class,
                carrier, segments, billable, status, reason, not_before, deadline, dlr, priority,
                created_at, updated_at, batch_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                ?17, ?18)
             RETURNING id",
        )?
        .query_row(
            params![
                m.api_key,
                m.idempotency_key,
                m.client_ref,
                m.to,
                m.from,
                m.text,
                m.class,
                m.carrier,
                segments,
                m.billable,
                m.status,
                m.reason,
                m.not_before,
                m.deadline,
                m.dlr,
                m.priority,
                m.created_at,
                m.batch_id
            ],
            |row| row.get(0),
        )?;
    tx.count(m.status, &m.class, &m.carrier, 1);
    let mut ledger = tx.prepare_cached(
        "INSERT INTO segments (message_id, idx, state) VALUES (?1, ?2, 'queued')",
    )?;
    for idx in 0..segments {
        ledger.execute(params![id, idx])?;
    }
    record_decision(tx, id, m)?;
    if m.status == MessageStatus::Rejected {
        let event = StatusEvent {
            id,
            status: m.status,
            client_ref: m.client_ref.as_deref(),
            carrier: &m.carrier,
            to: &m.to,
            segments,
            reason: m.reason.as_deref(),
            dlr: m.dlr,
            at: m.created_at,
        };
        outbox::queue_status(tx, &event)?;
    }
    Ok(Accepted { id, status: m.status, carrier: m.carrier.clone(), segments, duplicate: false })
}

/// A hold or a rejection at accept goes in the audit trail: once a held message is sent,
/// its reason is gone from the row. A plain `queued` needs no event (the row says it).
fn record_decision(tx: &Tx<'_>, id: MessageId, m: &NewMessage) -> DbResult<()> {
    let detail = match m.status {
        MessageStatus::Held => json!({"until": m.not_before, "reason": m.reason}),
        MessageStatus::Rejected => json!({"reason": m.reason}),
        _ => return Ok(()),
    };
    events::record(tx, id, m.created_at, m.status.as_str(), None, &detail)
}

/// The message stored earlier under (`api_key`, `key`), as a duplicate.
fn find_repeat(tx: &Tx<'_>, api_key: &str, key: &str) -> DbResult<Option<Accepted>> {
    let earlier = tx
        .prepare_cached(
            "SELECT id, status, carrier, segments FROM messages
             WHERE api_key = ?1 AND idem_key = ?2",
        )?
        .query_row(params![api_key, key], |row| {
            Ok(Accepted {
                id: row.get(0)?,
                status: row.get(1)?,
                carrier: row.get(2)?,
                segments: row.get(3)?,
                duplicate: true,
            })
        })
        .optional()?;
    Ok(earlier)
}
