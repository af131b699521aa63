//! Checks shared by the store's test files.

use std::path::Path;

use smppd_store::{SqliteStore, Store};

/// `depth` (kept by the writer as statuses change) equals a full count of `messages`, read
/// from the file with a connection of its own.
pub(crate) fn assert_depth_is_exact(store: &SqliteStore, db: &Path) {
    let conn = rusqlite::Connection::open(db).expect("open the store's file");
    let mut stmt = conn
        .prepare(
            "SELECT status, class, carrier, count(*) FROM messages
             GROUP BY status, class, carrier ORDER BY status, class, carrier",
        )
        .expect("prepare the count");
    let counted: Vec<(String, String, String, u64)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
        .and_then(|rows| rows.collect())
        .expect("count messages");
    let kept: Vec<(String, String, String, u64)> = store
        .depth()
        .expect("depth")
        .into_iter()
        .map(|d| (d.status.as_str().to_string(), d.class, d.carrier, d.count))
        .collect();
    assert_eq!(kept, counted, "depth (left) against a full count of messages (right)");
}
