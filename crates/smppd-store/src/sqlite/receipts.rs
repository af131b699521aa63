//! Receipts: matched to acked segments on disk, or held until their submit is recorded.

use rusqlite::{params, OptionalExtension};
use smpp_dlr::msgid::{candidates, read};

use super::ids::{self, reading_code, Formats};
use super::status;
use super::tx::Tx;
use super::DbResult;
use crate::{MessageId, ReceiptIn, ReceiptOutcome};

/// Applies each receipt in order, in the caller's transaction.
pub(super) fn apply_all(
    tx: &Tx<'_>,
    formats: &mut Formats,
    receipts: &[ReceiptIn],
) -> DbResult<Vec<ReceiptOutcome>> {
    receipts.iter().map(|r| apply(tx, formats, r)).collect()
}

fn apply(tx: &Tx<'_>, formats: &mut Formats, r: &ReceiptIn) -> DbResult<ReceiptOutcome> {
    match ids::find_segment(tx, formats, &r.account, &r.smsc_id)? {
        Some(found) => {
            formats.observe(tx, &r.account, found.pair, &r.smsc_id)?;
            apply_to_segment(tx, found.message, found.segment, r)
        }
        None => {
            hold(tx, r)?;
            Ok(ReceiptOutcome::Held)
        }
    }
}

/// The reason an undeliverable message shows: the receipt's state and error code.
fn undelivered_reason(r: &ReceiptIn) -> String {
    match &r.error {
        Some(error) => format!("receipt {} (err {error})", r.state),
        None => format!("receipt {}", r.state),
    }
}

/// Records receipt `r` on segment (`message`, `segment`) and re-derives the message status.
pub(super) fn apply_to_segment(
    tx: &Tx<'_>,
    message: MessageId,
    segment: u32,
    r: &ReceiptIn,
) -> DbResult<ReceiptOutcome> {
    // One statement in the usual case: the update only applies while no final receipt is
    // recorded, so no row back means this one is a duplicate (counted below).
    let sent_at: Option<Option<i64>> = tx
        .prepare_cached(
            "UPDATE segments SET receipts = receipts + 1, receipt_state = ?3, receipt_error = ?4,
                receipt_final = ?5, receipt_delivered = ?6, receipt_at = CASE WHEN ?5 THEN ?7 END
             WHERE message_id = ?1 AND idx = ?2 AND NOT receipt_final
             RETURNING coalesce(sent_at, submitted_at)",
        )?
        .query_row(
            params![message, segment, r.state, r.error, r.is_final, r.delivered, r.at],
            |row| row.get(0),
        )
        .optional()?;
    let Some(sent_at) = sent_at else {
        tx.prepare_cached(
            "UPDATE segments SET receipts = receipts + 1 WHERE message_id = ?1 AND idx = ?2",
        )?
        .execute(params![message, segment])?;
        return Ok(ReceiptOutcome::Duplicate { message, segment });
    };
    let (status, latency_ms) = if r.is_final {
        let reason = undelivered_reason(r);
        let status = status::refresh(tx, message, r.at, Some(&reason))?;
        (status, sent_at.map(|sent| r.at - sent))
    } else {
        (status::current(tx, message)?, None)
    };
    let status = status.ok_or("a matched segment's message is missing")?;
    Ok(ReceiptOutcome::Matched { message, segment, status, latency_ms })
}

/// Keeps a receipt that matched nothing, findable by every reading of its id.
fn hold(tx: &Tx<'_>, r: &ReceiptIn) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO held_receipts (account, smsc_id, state, is_final, delivered, error, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.account,
        r.smsc_id,
        r.state,
        r.is_final,
        r.delivered,
        r.error,
        r.at
    ])?;
    let held_id = tx.last_insert_rowid();
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO held_keys (account, key, reading, held_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for c in candidates(&r.smsc_id) {
        insert.execute(params![r.account, c.key.to_string(), reading_code(c.reading), held_id])?;
    }
    Ok(())
}

/// Whether any receipt is held at all: lets a batch of submit results skip the per-ack
/// lookups in the usual case.
pub(super) fn any_held(tx: &Tx<'_>) -> DbResult<bool> {
    let any = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM held_receipts)")?
        .query_row([], |row| row.get(0))?;
    Ok(any)
}

/// Applies the receipts held for `smsc_id` (just acked on `account`) to its segment, in
/// arrival order, and forgets them. The pair order is the one receipts are matched with.
pub(super) fn match_held(
    tx: &Tx<'_>,
    formats: &mut Formats,
    account: &str,
    smsc_id: &str,
    message: MessageId,
    segment: u32,
) -> DbResult<Vec<ReceiptOutcome>> {
    for pair in formats.pairs(account, |p| read(smsc_id, p.submit).is_some()) {
        let Some(key) = read(smsc_id, pair.submit) else { continue };
        let held: Vec<i64> = tx
            .prepare_cached(
                "SELECT held_id FROM held_keys WHERE account = ?1 AND key = ?2 AND reading = ?3
                 ORDER BY held_id",
            )?
            .query_map(params![account, key.to_string(), reading_code(pair.receipt)], |row| {
                row.get(0)
            })?
            .collect::<rusqlite::Result<_>>()?;
        if held.is_empty() {
            continue;
        }
        formats.observe(tx, account, pair, smsc_id)?;
        let mut outcomes = Vec::with_capacity(held.len());
        for held_id in held {
            let receipt = take_held(tx, held_id)?;
            outcomes.push(apply_to_segment(tx, message, segment, &receipt)?);
        }
        return Ok(outcomes);
    }
    Ok(Vec::new())
}

/// Looks again at receipts held since `cutoff` or earlier, once each: on an account whose
/// id format is not learned yet, one that a cross reading (hex↔decimal) explains is
/// evidence for that reading. By then an early receipt's own submit_sm_resp would have been
/// recorded, so the evidence is not an early receipt meeting another message's id. Once a
/// cross reading is learned, every receipt held on the account is tried under it.
pub(super) fn sweep(
    tx: &Tx<'_>,
    formats: &mut Formats,
    cutoff: i64,
    limit: usize,
) -> DbResult<Vec<ReceiptOutcome>> {
    let due: Vec<(i64, String, String)> = tx
        .prepare_cached(
            "UPDATE held_receipts SET checked = 1
             WHERE id IN (SELECT id FROM held_receipts WHERE NOT checked AND at <= ?1
                          ORDER BY id LIMIT ?2)
             RETURNING id, account, smsc_id",
        )?
        .query_map(params![cutoff, limit as i64], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut learned_on = Vec::new();
    for (_, account, smsc_id) in due {
        if formats.learned(&account).is_some() {
            continue;
        }
        let Some(found) = ids::find_cross(tx, &account, &smsc_id)? else { continue };
        if formats.observe(tx, &account, found.pair, &smsc_id)?.is_some() {
            learned_on.push(account);
        }
    }
    let mut outcomes = Vec::new();
    for account in learned_on {
        outcomes.extend(apply_held_on(tx, formats, &account)?);
    }
    Ok(outcomes)
}

/// Applies every receipt held on `account` that its pairs now explain.
fn apply_held_on(tx: &Tx<'_>, formats: &Formats, account: &str) -> DbResult<Vec<ReceiptOutcome>> {
    let held: Vec<(i64, String)> = tx
        .prepare_cached("SELECT id, smsc_id FROM held_receipts WHERE account = ?1 ORDER BY id")?
        .query_map([account], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut outcomes = Vec::new();
    for (held_id, smsc_id) in held {
        if let Some(found) = ids::find_segment(tx, formats, account, &smsc_id)? {
            let receipt = take_held(tx, held_id)?;
            outcomes.push(apply_to_segment(tx, found.message, found.segment, &receipt)?);
        }
    }
    Ok(outcomes)
}

/// Forgets up to `limit` held receipts that arrived before `before`, oldest first.
pub(super) fn purge_held(tx: &Tx<'_>, before: i64, limit: usize) -> DbResult<u64> {
    let old: Vec<i64> = tx
        .prepare_cached("SELECT id FROM held_receipts WHERE at < ?1 ORDER BY id LIMIT ?2")?
        .query_map(params![before, limit as i64], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for &held_id in &old {
        take_held(tx, held_id)?;
    }
    Ok(old.len() as u64)
}

/// Removes held receipt `held_id` and its keys, returning it.
fn take_held(tx: &Tx<'_>, held_id: i64) -> DbResult<ReceiptIn> {
    let receipt = tx
        .prepare_cached(
            "DELETE FROM held_receipts WHERE id = ?1
             RETURNING account, smsc_id, state, is_final, delivered, error, at",
        )?
        .query_row([held_id], |row| {
            Ok(ReceiptIn {
                account: row.get(0)?,
                smsc_id: row.get(1)?,
                state: row.get(2)?,
                is_final: row.get(3)?,
                delivered: row.get(4)?,
                error: row.get(5)?,
                at: row.get(6)?,
            })
        })?;
    let mut delete = tx.prepare_cached(
        "DELETE FROM held_keys WHERE account = ?1 AND key = ?2 AND reading = ?3 AND held_id = ?4",
    )?;
    for c in candidates(&receipt.smsc_id) {
        delete.execute(params![
            receipt.account,
            c.key.to_string(),
            reading_code(c.reading),
            held_id
        ])?;
    }
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, TransactionBehavior};

    use super::super::{accept, claim, schema, submits};
    use super::*;
    use crate::{MessageStatus, NewMessage, SubmitOutcome, SubmitResult};

    const T0: i64 = 1_700_000_000_000;

    fn message(to: &str) -> NewMessage {
        NewMessage {
            api_key: "k".into(),
            idempotency_key: None,
            client_ref: None,
            to: to.into(),
            from: "CARDCO".into(),
            text: "t".into(),
            class: "otp".into(),
            carrier: "docomo".into(),
            segments: 1,
            billable: 1,
            status: MessageStatus::Queued,
            not_before: T0,
            deadline: None,
            dlr: true,
            priority: 0,
            reason: None,
            created_at: T0,
            batch_id: None,
        }
    }

    fn receipt(id: &str) -> ReceiptIn {
        ReceiptIn {
            account: "a".into(),
            smsc_id: id.into(),
            state: "DELIVRD".into(),
            is_final: true,
            delivered: true,
            error: None,
            at: T0 + 100,
        }
    }

    fn acked(message: MessageId, id: &str) -> SubmitResult {
        SubmitResult {
            message,
            segment: 0,
            account: "a".into(),
            outcome: SubmitOutcome::Acked { smsc_id: id.into() },
            at: T0 + 10,
            sent_at: T0,
        }
    }

    /// A fresh schema with two messages accepted and claimed on account `a`, in an open
    /// transaction.
    fn two_claimed(conn: &mut Connection) -> (Tx<'_>, Vec<MessageId>) {
        schema::migrate(conn).unwrap();
        let tx = Tx::new(conn.transaction_with_behavior(TransactionBehavior::Immediate).unwrap());
        let accepted = accept::accept(&tx, &[message("+8190000001"), message("+8190000002")]);
        let ids = accepted.unwrap().iter().map(|a| a.id).collect();
        assert_eq!(claim::claim(&tx, "docomo", "a", T0, 10).unwrap().len(), 2);
        (tx, ids)
    }

    /// Decimal ids, nothing learned yet: the receipt for `29` arrives before its own
    /// submit_sm_resp is recorded while `41` (hex `29`) waits for its receipt. It must not
    /// resolve `41`; it waits for `29`, and a later sweep does not read it across either.
    #[test]
    fn an_early_receipt_waits_for_its_own_id_not_a_cross_reading() {
        let mut conn = Connection::open_in_memory().unwrap();
        let mut formats = Formats::default();
        let (tx, ids) = two_claimed(&mut conn);
        submits::record(&tx, &mut formats, &[acked(ids[0], "41")], 5_000).unwrap();
        assert_eq!(apply_all(&tx, &mut formats, &[receipt("29")]).unwrap(), [ReceiptOutcome::Held]);
        let matched = submits::record(&tx, &mut formats, &[acked(ids[1], "29")], 5_000).unwrap();
        assert!(
            matches!(matched[..], [ReceiptOutcome::Matched { message, .. }] if message == ids[1])
        );
        assert_eq!(apply_all(&tx, &mut formats, &[receipt("65")]).unwrap(), [ReceiptOutcome::Held]);
        assert_eq!(sweep(&tx, &mut formats, T0 + 100, 10).unwrap(), [], "one hint teaches nothing");
        assert!(matches!(
            apply_all(&tx, &mut formats, &[receipt("41")]).unwrap()[..],
            [ReceiptOutcome::Matched { message, .. }] if message == ids[0]
        ));
    }

    /// Decimal ids, nothing learned yet: the receipt for `43` arrives before its own
    /// submit_sm_resp is recorded. Read as hex, `43` is `67`, an older message that already
    /// has its receipt; the receipt must wait for `43`, not count as a duplicate of `67`.
    #[test]
    fn an_early_receipt_is_not_taken_by_a_cross_reading_of_an_older_id() {
        let mut conn = Connection::open_in_memory().unwrap();
        let mut formats = Formats::default();
        let (tx, ids) = two_claimed(&mut conn);
        submits::record(&tx, &mut formats, &[acked(ids[0], "67")], 5_000).unwrap();
        let first = apply_all(&tx, &mut formats, &[receipt("67")]).unwrap();
        assert!(matches!(first[0], ReceiptOutcome::Matched { message, .. } if message == ids[0]));

        let early = apply_all(&tx, &mut formats, &[receipt("43")]).unwrap();
        assert_eq!(early, vec![ReceiptOutcome::Held]);
        let matched = submits::record(&tx, &mut formats, &[acked(ids[1], "43")], 5_000).unwrap();
        assert!(
            matches!(matched[..], [ReceiptOutcome::Matched { message, status: MessageStatus::Delivered, .. }] if message == ids[1]),
            "{matched:?}"
        );
    }
}
