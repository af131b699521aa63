//! SMSC message-id keys on disk, and the reading pair learned per account.
//!
//! An acked segment is indexed under every reading of its id ([`candidates`]), with the
//! reading that produced each key: a receipt read as `pair.receipt` must only meet submits
//! read as `pair.submit`, or `10` (decimal) would meet `10` (hex, 16).

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension};
use smpp_dlr::msgid::{candidates, pairs_to_try, read, reads_alike, Reading, ReadingPair};

use super::tx::Tx;
use super::DbResult;
use crate::MessageId;

/// A pair is preferred once it explained this many matches (and more than any other).
const LEARN_AFTER: u32 = 2;

/// The database spelling of a reading.
pub(super) fn reading_code(reading: Reading) -> i64 {
    match reading {
        Reading::Exact => 0,
        Reading::Decimal => 1,
        Reading::Hex => 2,
    }
}

fn reading_from_code(code: i64) -> Option<Reading> {
    match code {
        0 => Some(Reading::Exact),
        1 => Some(Reading::Decimal),
        2 => Some(Reading::Hex),
        _ => None,
    }
}

/// What one account's matches taught so far.
#[derive(Debug, Default)]
struct Learner {
    /// Matches per pair, indexed like [`ReadingPair::DEFAULT_ORDER`] (since this start).
    counts: [u32; 5],
    /// The pair tried first, if one leads.
    learned: Option<ReadingPair>,
}

impl Learner {
    /// Counts a match under `pair`; returns the newly learned pair when the lead changes.
    fn observe(&mut self, pair: ReadingPair) -> Option<ReadingPair> {
        let index = ReadingPair::DEFAULT_ORDER.iter().position(|p| *p == pair)?;
        self.counts[index] = self.counts[index].saturating_add(1);
        let count = self.counts[index];
        let leads = self.counts.iter().enumerate().all(|(i, &c)| i == index || c < count);
        if count >= LEARN_AFTER && leads && self.learned != Some(pair) {
            self.learned = Some(pair);
            return Some(pair);
        }
        None
    }
}

/// The reading pair learned per account, mirrored in `id_formats` so a restart keeps it.
/// One entry per carrier account: it does not grow with traffic.
#[derive(Debug, Default)]
pub(super) struct Formats {
    accounts: HashMap<String, Learner>,
}

impl Formats {
    /// Loads what earlier runs learned.
    pub(super) fn load(conn: &Connection) -> DbResult<Self> {
        let mut stmt =
            conn.prepare("SELECT account, submit_reading, receipt_reading FROM id_formats")?;
        let rows = stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        })?;
        let mut formats = Self::default();
        for row in rows {
            let (account, submit, receipt) = row?;
            if let (Some(submit), Some(receipt)) =
                (reading_from_code(submit), reading_from_code(receipt))
            {
                let learned = Some(ReadingPair::new(submit, receipt));
                formats.accounts.insert(account, Learner { learned, ..Learner::default() });
            }
        }
        Ok(formats)
    }

    /// The pairs to try for `account`, best first. Cross readings (hex↔decimal) are only
    /// tried once one is learned, and then alone for the ids it can read (`readable`): with
    /// decimal ids, a receipt that arrives before its own submit_sm_resp (`29`) would
    /// otherwise meet another message's id under a cross reading (hex `29` is decimal `41`)
    /// and resolve the wrong message. Same readings only forgive case and leading zeros, so
    /// they are tried together. Before anything is learned, a receipt that only a cross
    /// reading explains waits in `held_receipts` for [`super::receipts::sweep`].
    pub(super) fn pairs(
        &self,
        account: &str,
        readable: impl Fn(ReadingPair) -> bool,
    ) -> impl Iterator<Item = ReadingPair> {
        pairs_to_try(self.learned(account), readable)
    }

    /// The pair learned for `account`, if any.
    pub(super) fn learned(&self, account: &str) -> Option<ReadingPair> {
        self.accounts.get(account).and_then(|l| l.learned)
    }

    /// Counts a match of `id` on `account` under `pair`, persisting a newly learned pair,
    /// which it returns. An id that reads the same in decimal and hex (`0`–`9`) says nothing
    /// about the format and is not counted. (If the transaction rolls back, memory is ahead
    /// of the disk until the next restart: harmless, the preference is only an ordering.)
    pub(super) fn observe(
        &mut self,
        tx: &Tx<'_>,
        account: &str,
        pair: ReadingPair,
        id: &str,
    ) -> DbResult<Option<ReadingPair>> {
        if reads_alike(id) {
            return Ok(None);
        }
        // Look up before inserting: no String allocation per receipt.
        if !self.accounts.contains_key(account) {
            self.accounts.insert(account.to_owned(), Learner::default());
        }
        let newly_learned = self.accounts.get_mut(account).and_then(|l| l.observe(pair));
        if let Some(learned) = newly_learned {
            persist(tx, account, learned)?;
        }
        Ok(newly_learned)
    }

    /// Sets `account`'s pair (configured, not learned), on disk too.
    /// Sets `account`'s pair from the configuration, on disk too, marked as configured.
    /// `None` (the configuration says `auto`) forgets a pair that an earlier configuration
    /// set, so the account learns again; a learned pair is kept.
    pub(super) fn configure(
        &mut self,
        tx: &Tx<'_>,
        account: &str,
        pair: Option<ReadingPair>,
    ) -> DbResult<()> {
        let Some(pair) = pair else {
            let forgot = tx
                .prepare_cached("DELETE FROM id_formats WHERE account = ?1 AND configured")?
                .execute([account])?;
            if forgot > 0 {
                self.accounts.remove(account);
            }
            return Ok(());
        };
        let learner = Learner { learned: Some(pair), ..Learner::default() };
        self.accounts.insert(account.to_owned(), learner);
        write_pair(tx, account, pair, true)
    }
}

fn persist(tx: &Tx<'_>, account: &str, pair: ReadingPair) -> DbResult<()> {
    write_pair(tx, account, pair, false)
}

fn write_pair(tx: &Tx<'_>, account: &str, pair: ReadingPair, configured: bool) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO id_formats (account, submit_reading, receipt_reading, configured)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account) DO UPDATE SET
            submit_reading = excluded.submit_reading,
            receipt_reading = excluded.receipt_reading,
            configured = excluded.configured",
    )?
    .execute(params![
        account,
        reading_code(pair.submit),
        reading_code(pair.receipt),
        configured
    ])?;
    Ok(())
}

/// Makes an acked segment findable by every reading of its SMSC id.
pub(super) fn index_segment(
    tx: &Tx<'_>,
    account: &str,
    smsc_id: &str,
    message: MessageId,
    segment: u32,
) -> DbResult<()> {
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO id_keys (account, key, reading, message_id, idx)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for c in candidates(smsc_id) {
        insert.execute(params![
            account,
            c.key.to_string(),
            reading_code(c.reading),
            message,
            segment
        ])?;
    }
    Ok(())
}

/// A receipt's segment, and the pair that matched it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub(super) message: MessageId,
    pub(super) segment: u32,
    pub(super) pair: ReadingPair,
}

/// The acked segment of `account` that `receipt_id` names: the first pair (learned first)
/// with any match wins; among several matches, the most recently submitted.
pub(super) fn find_segment(
    tx: &Tx<'_>,
    formats: &Formats,
    account: &str,
    receipt_id: &str,
) -> DbResult<Option<Found>> {
    let pairs = formats.pairs(account, |p| read(receipt_id, p.receipt).is_some());
    find_under(tx, pairs, account, receipt_id)
}

/// The acked segment that a cross reading (hex↔decimal) of `receipt_id` names, if any.
pub(super) fn find_cross(tx: &Tx<'_>, account: &str, receipt_id: &str) -> DbResult<Option<Found>> {
    find_under(tx, ReadingPair::cross(), account, receipt_id)
}

fn find_under(
    tx: &Tx<'_>,
    pairs: impl Iterator<Item = ReadingPair>,
    account: &str,
    receipt_id: &str,
) -> DbResult<Option<Found>> {
    let mut stmt = tx.prepare_cached(
        "SELECT k.message_id, k.idx FROM id_keys k
         JOIN segments s ON s.message_id = k.message_id AND s.idx = k.idx
         WHERE k.account = ?1 AND k.key = ?2 AND k.reading = ?3
         ORDER BY s.submitted_at DESC, k.message_id DESC LIMIT 1",
    )?;
    for pair in pairs {
        let Some(key) = read(receipt_id, pair.receipt) else { continue };
        let found = stmt
            .query_row(params![account, key.to_string(), reading_code(pair.submit)], |row| {
                Ok(Found { message: row.get(0)?, segment: row.get(1)?, pair })
            })
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_DEC: ReadingPair = ReadingPair::new(Reading::Hex, Reading::Decimal);

    #[test]
    fn learns_after_two_leading_matches() {
        let mut learner = Learner::default();
        assert_eq!(learner.observe(HEX_DEC), None);
        assert_eq!(learner.observe(HEX_DEC), Some(HEX_DEC));
        assert_eq!(learner.observe(HEX_DEC), None, "already learned: nothing new to persist");
    }

    #[test]
    fn the_pairs_follow_what_the_account_learned() {
        let mut formats = Formats::default();
        assert!(formats.pairs("a", |_| true).all(|p| p.is_same()), "nothing learned");
        formats.accounts.insert("a".into(), Learner { learned: Some(HEX_DEC), counts: [0; 5] });
        assert_eq!(formats.pairs("a", |_| true).collect::<Vec<_>>(), [HEX_DEC]);
    }
}
