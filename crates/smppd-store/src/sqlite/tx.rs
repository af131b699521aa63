//! The writer's transaction: a rusqlite [`Transaction`] plus the changes it made to the
//! message counts in `depth`, which are written just before it commits.
//!
//! `depth` used to be kept by triggers on `messages`. A trigger turns every status update
//! into a multi-statement program with a statement journal, about 3 µs each on the single
//! writer, and a message changes status three or four times on its way (accepted, claimed,
//! submitted, delivered): the counts now move in memory and reach the table as one upsert
//! per (status, class, carrier) per transaction. Every statement that changes a message's
//! status, class or carrier therefore says so here, either exactly (it knows the old and
//! new values: [`Tx::count_move`]) or by recounting the rows it touches
//! ([`Tx::recounting`]). `depth_matches_the_messages` (in the store tests) checks the table
//! against a full count after every kind of change.

use std::cell::RefCell;
use std::ops::Deref;

use rusqlite::{Params, Transaction};

use super::DbResult;
use crate::MessageStatus;

/// One (status, class, carrier) and how much its count moved.
#[derive(Debug, Clone)]
pub(super) struct Moved {
    status: MessageStatus,
    class: String,
    carrier: String,
    by: i64,
}

/// A write transaction of [`super::SqliteStore`]. Derefs to the [`Transaction`]; commit it
/// with [`Tx::commit`] (dropping it rolls back, counts included).
pub(super) struct Tx<'c> {
    tx: Transaction<'c>,
    moved: RefCell<Vec<Moved>>,
}

impl<'c> Deref for Tx<'c> {
    type Target = Transaction<'c>;

    fn deref(&self) -> &Transaction<'c> {
        &self.tx
    }
}

impl<'c> Tx<'c> {
    pub(super) fn new(tx: Transaction<'c>) -> Self {
        Self { tx, moved: RefCell::new(Vec::new()) }
    }

    /// A message entered `status` (`by` = 1) or left it (`by` = −1).
    pub(super) fn count(&self, status: MessageStatus, class: &str, carrier: &str, by: i64) {
        let mut moved = self.moved.borrow_mut();
        // A transaction touches a handful of keys: a scan beats hashing, and a known key
        // costs no allocation.
        match moved
            .iter_mut()
            .find(|m| m.status == status && m.class == class && m.carrier == carrier)
        {
            Some(m) => m.by += by,
            None => moved.push(Moved {
                status,
                class: class.to_owned(),
                carrier: carrier.to_owned(),
                by,
            }),
        }
    }

    /// A message of `class` on `carrier` moved from status `from` to `to`.
    pub(super) fn count_move(
        &self,
        from: MessageStatus,
        to: MessageStatus,
        class: &str,
        carrier: &str,
    ) {
        if from != to {
            self.count(from, class, carrier, -1);
            self.count(to, class, carrier, 1);
        }
    }

    /// Runs `change`, which may change the status, class or carrier of the messages whose
    /// ids `ids_sql` (a `SELECT` of ids, with `params`) yields, before and after: they are
    /// counted out before it and in after it. For changes of many rows at once, where the
    /// old values are not at hand; `ids_sql` must yield the same ids both times.
    pub(super) fn recounting<T, P: Params + Clone>(
        &self,
        ids_sql: &str,
        params: P,
        change: impl FnOnce() -> DbResult<T>,
    ) -> DbResult<T> {
        self.count_rows(ids_sql, params.clone(), -1)?;
        let out = change()?;
        self.count_rows(ids_sql, params, 1)?;
        Ok(out)
    }

    fn count_rows<P: Params>(&self, ids_sql: &str, params: P, by: i64) -> DbResult<()> {
        let sql = format!(
            "SELECT status, class, carrier, count(*) FROM messages WHERE id IN ({ids_sql})
             GROUP BY status, class, carrier"
        );
        let mut stmt = self.tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(params)?;
        while let Some(row) = rows.next()? {
            let (status, class, carrier): (MessageStatus, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            self.count(status, &class, &carrier, by * row.get::<_, i64>(3)?);
        }
        Ok(())
    }

    /// The counts' changes so far, to put back with [`Tx::restore_counts`] when a savepoint
    /// is rolled back.
    pub(super) fn counts(&self) -> Vec<Moved> {
        self.moved.borrow().clone()
    }

    pub(super) fn restore_counts(&self, counts: Vec<Moved>) {
        *self.moved.borrow_mut() = counts;
    }

    /// Writes the counts' changes and commits.
    pub(super) fn commit(self) -> DbResult<()> {
        let moved = self.moved.borrow();
        if moved.iter().any(|m| m.by != 0) {
            let mut upsert = self.tx.prepare_cached(
                "INSERT INTO depth (status, class, carrier, n) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (status, class, carrier) DO UPDATE SET n = n + excluded.n",
            )?;
            for m in moved.iter().filter(|m| m.by != 0) {
                upsert.execute(rusqlite::params![m.status, m.class, m.carrier, m.by])?;
            }
        }
        drop(moved);
        self.tx.commit()?;
        Ok(())
    }
}
