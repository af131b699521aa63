//! The audit trail's own records: steps that leave no other trace once the message moves on
//! (why and until when it was held, a re-route, a rejection right before sending, a batch
//! pause). Submits, receipts and the batch workflow are read from their own tables.

use rusqlite::{params, Transaction};
use serde_json::Value;

use super::tx::Tx;
use super::DbResult;
use crate::{AuditEvent, MessageId, Millis};

/// Records one event in the caller's transaction.
pub(super) fn record(
    tx: &Tx<'_>,
    message: MessageId,
    at: Millis,
    kind: &str,
    actor: Option<&str>,
    detail: &Value,
) -> DbResult<()> {
    let detail = (!detail.is_null()).then(|| detail.to_string());
    tx.prepare_cached(
        "INSERT INTO events (message_id, at, kind, actor, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![message, at, kind, actor, detail])?;
    Ok(())
}

/// A message's events, oldest first.
pub(super) fn of_message(tx: &Transaction<'_>, id: MessageId) -> DbResult<Vec<AuditEvent>> {
    let mut stmt = tx.prepare_cached(
        "SELECT at, kind, actor, detail FROM events WHERE message_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |row| {
        Ok(AuditEvent {
            at: row.get(0)?,
            kind: row.get(1)?,
            actor: row.get(2)?,
            detail: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes events older than `before`.
pub(super) fn purge(tx: &Tx<'_>, before: Millis) -> DbResult<u64> {
    let n = tx.prepare_cached("DELETE FROM events WHERE at < ?1")?.execute([before])?;
    Ok(n as u64)
}
