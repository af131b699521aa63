//! The webhook outbox (rows written in the transaction that made the event) and MOs.

use rusqlite::{params, OptionalExtension, Transaction};
use serde_json::{json, Map, Value};

use super::tx::Tx;
use super::{accept, lists, DbResult};
use crate::{ListEntry, ListKind, MessageId, MessageStatus, Millis, MoIn, MoRecorded, WebhookJob};

/// The opt-out list's reason for a number that sent a stop keyword.
const STOP_KEYWORD_REASON: &str = "stop_keyword";

/// A message status change, as the `status` webhook tells it.
pub(super) struct StatusEvent<'a> {
    pub(super) id: MessageId,
    pub(super) status: MessageStatus,
    pub(super) client_ref: Option<&'a str>,
    pub(super) carrier: &'a str,
    pub(super) to: &'a str,
    pub(super) segments: u32,
    pub(super) reason: Option<&'a str>,
    pub(super) dlr: bool,
    pub(super) at: Millis,
}

/// Whether a change to `status` is worth a webhook: successes only when the client asked
/// for receipts, everything that went wrong (or needs a decision) always.
fn notifies(status: MessageStatus, dlr: bool) -> bool {
    use MessageStatus::*;
    match status {
        Submitted | Delivered => dlr,
        Undeliverable | Expired | Rejected | Failed | Unknown | Cancelled => true,
        Queued | Held | Submitting => false,
    }
}

/// Statuses whose webhook carries the reason as `error`.
fn carries_error(status: MessageStatus) -> bool {
    use MessageStatus::*;
    matches!(status, Undeliverable | Expired | Rejected | Failed | Unknown)
}

/// Queues the `status` webhook for `event` if its status calls for one.
pub(super) fn queue_status(tx: &Tx<'_>, event: &StatusEvent<'_>) -> DbResult<()> {
    if !notifies(event.status, event.dlr) {
        return Ok(());
    }
    let mut body = Map::new();
    body.insert("type".into(), "message.status".into());
    body.insert("id".into(), event.id.to_string().into());
    body.insert("client_ref".into(), event.client_ref.into());
    body.insert("status".into(), event.status.as_str().into());
    body.insert("carrier".into(), event.carrier.into());
    body.insert("to".into(), event.to.into());
    body.insert("segments".into(), event.segments.into());
    if carries_error(event.status) {
        if let Some(reason) = event.reason {
            body.insert("error".into(), reason.into());
        }
    }
    body.insert("at".into(), event.at.into());
    queue(tx, "status", Some(event.id), &Value::Object(body), event.at)
}

fn queue(
    tx: &Tx<'_>,
    kind: &str,
    message: Option<MessageId>,
    body: &Value,
    at: Millis,
) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO webhooks (kind, message_id, payload, next_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![kind, message, body.to_string(), at])?;
    Ok(())
}

/// The message an MO answers: the last one sent to its sender from the number it was sent
/// to, created within the window. Messages that never went out do not count.
fn replied_message(
    tx: &Tx<'_>,
    mo: &MoIn,
    window_ms: i64,
) -> DbResult<Option<(MessageId, Option<String>)>> {
    let found = tx
        .prepare_cached(
            "SELECT id, client_ref FROM messages
             WHERE to_addr = ?1 AND from_addr = ?2 AND created_at BETWEEN ?3 AND ?4
               AND status NOT IN ('queued', 'held', 'cancelled', 'rejected', 'expired')
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![mo.from, mo.to, mo.at.saturating_sub(window_ms), mo.at], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    Ok(found)
}

/// Stores each MO with the message it answers and queues its `mo` webhook.
pub(super) fn record_mos(tx: &Tx<'_>, mos: &[MoIn], window_ms: i64) -> DbResult<Vec<MoRecorded>> {
    mos.iter().map(|mo| record_mo(tx, mo, window_ms)).collect()
}

fn record_mo(tx: &Tx<'_>, mo: &MoIn, window_ms: i64) -> DbResult<MoRecorded> {
    // Looked up before the acknowledgement is stored: the MO answers what we sent before.
    let reply = replied_message(tx, mo, window_ms)?;
    let in_reply_to = reply.as_ref().map(|(id, _)| *id);
    tx.prepare_cached(
        "INSERT INTO mos (account, carrier, from_addr, to_addr, text, at, in_reply_to)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![mo.account, mo.carrier, mo.from, mo.to, mo.text, mo.at, in_reply_to])?;
    let id = tx.last_insert_rowid();
    let in_reply_to_json = match &reply {
        Some((message, client_ref)) => {
            json!({ "id": message.to_string(), "client_ref": client_ref })
        }
        None => Value::Null,
    };
    let body = json!({
        "type": "mo",
        "id": id.to_string(),
        "from": mo.from,
        "to": mo.to,
        "text": mo.text,
        "carrier": mo.carrier,
        "account": mo.account,
        "at": mo.at,
        "in_reply_to": in_reply_to_json,
        "opted_out": mo.opt_out,
    });
    queue(tx, "mo", in_reply_to, &body, mo.at)?;
    if mo.opt_out {
        let entry = ListEntry {
            number: mo.from.clone(),
            reason: STOP_KEYWORD_REASON.into(),
            added_by: "mo".into(),
            added_at: mo.at,
        };
        lists::put(tx, ListKind::OptOut, &entry)?;
    }
    let ack = mo.reply.as_ref().map(|m| accept::accept_one(tx, m)).transpose()?;
    Ok(MoRecorded { id, in_reply_to, reply: ack.map(|a| a.id) })
}

/// Up to `limit` undelivered webhooks whose next attempt is due, oldest first.
pub(super) fn due(tx: &Transaction<'_>, now: Millis, limit: usize) -> DbResult<Vec<WebhookJob>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut stmt = tx.prepare_cached(
        "SELECT id, kind, payload, attempts FROM webhooks
         WHERE delivered_at IS NULL AND next_at <= ?1 ORDER BY next_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |row| {
        Ok(WebhookJob {
            id: row.get(0)?,
            kind: row.get(1)?,
            payload: row.get(2)?,
            attempts: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Marks a webhook delivered: it leaves the due set for good.
pub(super) fn delivered(tx: &Tx<'_>, id: i64, now: Millis) -> DbResult<()> {
    tx.prepare_cached("UPDATE webhooks SET delivered_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// Counts a failed attempt and schedules the next one.
pub(super) fn failed(tx: &Tx<'_>, id: i64, next_at: Millis, error: &str) -> DbResult<()> {
    tx.prepare_cached(
        "UPDATE webhooks SET attempts = attempts + 1, next_at = ?2, last_error = ?3
         WHERE id = ?1 AND delivered_at IS NULL",
    )?
    .execute(params![id, next_at, error])?;
    Ok(())
}
