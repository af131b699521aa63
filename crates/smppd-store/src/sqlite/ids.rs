//! SMSC message-id keys on disk, and the reading pair learned per account.
//!
//! An acked segment is indexed under every reading of its id ([`candidates`]), with the
//! reading that produced each key: a receipt read as `pair.receipt` must only meet submits
//! read as `pair.submit`, or `10` (decimal) would meet `10` (hex, 16).

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use smpp_dlr::msgid::{candidates, read, Reading, ReadingPair};

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

/// [`ReadingPair::DEFAULT_ORDER`] with `first` moved to the front.
fn ordered(first: Option<ReadingPair>) -> [ReadingPair; 5] {
    let mut pairs = ReadingPair::DEFAULT_ORDER;
    if let Some(at) = pairs.iter().position(|p| Some(*p) == first) {
        pairs[..=at].rotate_right(1);
    }
    pairs
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

    /// The pairs to try for `account`, best first. Once a pair is learned, the other
    /// cross readings (hex↔decimal) are no longer tried: with decimal ids, a receipt that
    /// arrives before its own submit_sm_resp (`14`) would otherwise meet another message's
    /// id under a cross reading (hex `14` is decimal `20`) and resolve the wrong message.
    /// Same-reading pairs stay: they only forgive case and leading zeros.
    pub(super) fn pairs(&self, account: &str) -> impl Iterator<Item = ReadingPair> {
        let learned = self.accounts.get(account).and_then(|l| l.learned);
        ordered(learned)
            .into_iter()
            .filter(move |p| learned.is_none() || Some(*p) == learned || p.submit == p.receipt)
    }

    /// Whether, with no pair learned yet for `account`, a same-reading pair has explained
    /// more matches than the cross reading `pair` has: then a match under `pair` is doubtful.
    fn doubts(&self, account: &str, pair: ReadingPair) -> bool {
        let Some(l) = self.accounts.get(account) else { return false };
        let count = |p: ReadingPair| {
            ReadingPair::DEFAULT_ORDER.iter().position(|q| *q == p).map_or(0, |i| l.counts[i])
        };
        l.learned.is_none()
            && pair.submit != pair.receipt
            && ReadingPair::DEFAULT_ORDER
                .iter()
                .any(|p| p.submit == p.receipt && count(*p) > count(pair))
    }

    /// Counts a match on `account` under `pair`, persisting a newly learned pair. (If the
    /// transaction rolls back, memory is ahead of the disk until the next restart: harmless,
    /// the preference is only an ordering.)
    pub(super) fn observe(
        &mut self,
        tx: &Transaction<'_>,
        account: &str,
        pair: ReadingPair,
    ) -> DbResult<()> {
        // Look up before inserting: no String allocation per receipt.
        if !self.accounts.contains_key(account) {
            self.accounts.insert(account.to_owned(), Learner::default());
        }
        let newly_learned = self.accounts.get_mut(account).and_then(|l| l.observe(pair));
        if let Some(learned) = newly_learned {
            tx.prepare_cached(
                "INSERT INTO id_formats (account, submit_reading, receipt_reading)
                 VALUES (?1, ?2, ?3)
                 ON CONFLICT (account) DO UPDATE SET
                    submit_reading = excluded.submit_reading,
                    receipt_reading = excluded.receipt_reading",
            )?
            .execute(params![
                account,
                reading_code(learned.submit),
                reading_code(learned.receipt)
            ])?;
        }
        Ok(())
    }
}

/// Makes an acked segment findable by every reading of its SMSC id.
pub(super) fn index_segment(
    tx: &Transaction<'_>,
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
    tx: &Transaction<'_>,
    formats: &Formats,
    account: &str,
    receipt_id: &str,
) -> DbResult<Option<Found>> {
    let mut stmt = tx.prepare_cached(
        "SELECT k.message_id, k.idx, s.receipt_final FROM id_keys k
         JOIN segments s ON s.message_id = k.message_id AND s.idx = k.idx
         WHERE k.account = ?1 AND k.key = ?2 AND k.reading = ?3
         ORDER BY s.submitted_at DESC, k.message_id DESC LIMIT 1",
    )?;
    for pair in formats.pairs(account) {
        let Some(key) = read(receipt_id, pair.receipt) else { continue };
        let found = stmt
            .query_row(params![account, key.to_string(), reading_code(pair.submit)], |row| {
                Ok((Found { message: row.get(0)?, segment: row.get(1)?, pair }, row.get(2)?))
            })
            .optional()?;
        match found {
            // Before the account's pair is learned, a cross reading (hex↔decimal) that lands
            // on a segment which already has its final receipt, on an account where same
            // readings have matched more often, is most likely another message's id whose
            // submit_sm_resp is not recorded yet (`43` read as hex is `67`, an older
            // message). Holding the receipt lets that resp match it when it is recorded.
            Some((_, true)) if formats.doubts(account, pair) => continue,
            Some((found, _)) => return Ok(Some(found)),
            None => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX_DEC: ReadingPair = ReadingPair::new(Reading::Hex, Reading::Decimal);

    #[test]
    fn a_learned_pair_goes_first_and_the_rest_keep_their_order() {
        let pairs = ordered(Some(HEX_DEC));
        assert_eq!(pairs[0], HEX_DEC);
        let rest: Vec<_> =
            ReadingPair::DEFAULT_ORDER.into_iter().filter(|p| *p != HEX_DEC).collect();
        assert_eq!(pairs[1..], rest[..]);
        assert_eq!(ordered(None), ReadingPair::DEFAULT_ORDER);
    }

    #[test]
    fn learns_after_two_leading_matches() {
        let mut learner = Learner::default();
        assert_eq!(learner.observe(HEX_DEC), None);
        assert_eq!(learner.observe(HEX_DEC), Some(HEX_DEC));
        assert_eq!(learner.observe(HEX_DEC), None, "already learned: nothing new to persist");
    }
}
