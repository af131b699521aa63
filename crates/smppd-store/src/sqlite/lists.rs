//! The suppression and opt-out lists: one table keyed by (number, list).

use rusqlite::{params, OptionalExtension, Transaction};

use super::tx::Tx;
use super::DbResult;
use crate::{ListEntry, ListHits, ListKind};

/// Adds or replaces an entry.
pub(super) fn put(tx: &Tx<'_>, list: ListKind, e: &ListEntry) -> DbResult<()> {
    tx.prepare_cached(
        "INSERT INTO lists (number, list, reason, added_by, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (number, list) DO UPDATE
         SET reason = excluded.reason, added_by = excluded.added_by, added_at = excluded.added_at",
    )?
    .execute(params![e.number, list.as_str(), e.reason, e.added_by, e.added_at])?;
    Ok(())
}

/// Removes an entry; whether there was one.
pub(super) fn remove(tx: &Tx<'_>, list: ListKind, number: &str) -> DbResult<bool> {
    let n = tx
        .prepare_cached("DELETE FROM lists WHERE number = ?1 AND list = ?2")?
        .execute(params![number, list.as_str()])?;
    Ok(n > 0)
}

/// One entry.
pub(super) fn get(
    tx: &Transaction<'_>,
    list: ListKind,
    number: &str,
) -> DbResult<Option<ListEntry>> {
    let entry = tx
        .prepare_cached(
            "SELECT number, reason, added_by, added_at FROM lists WHERE number = ?1 AND list = ?2",
        )?
        .query_row(params![number, list.as_str()], |row| {
            Ok(ListEntry {
                number: row.get(0)?,
                reason: row.get(1)?,
                added_by: row.get(2)?,
                added_at: row.get(3)?,
            })
        })
        .optional()?;
    Ok(entry)
}

/// Both lists' verdict on `number`.
pub(super) fn hits(tx: &Transaction<'_>, number: &str) -> DbResult<ListHits> {
    let mut stmt = tx.prepare_cached("SELECT list, reason FROM lists WHERE number = ?1")?;
    let mut rows = stmt.query([number])?;
    let mut hits = ListHits::default();
    while let Some(row) = rows.next()? {
        let list: String = row.get(0)?;
        if list == ListKind::Suppression.as_str() {
            hits.suppressed = Some(row.get(1)?);
        } else if list == ListKind::OptOut.as_str() {
            hits.opted_out = true;
        }
    }
    Ok(hits)
}
