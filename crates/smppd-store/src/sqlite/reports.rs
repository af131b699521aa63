//! The billing report, on the read connection.

use rusqlite::{params, Transaction};

use super::DbResult;
use crate::{BillingRow, Millis};

/// Messages created in `[from, to)` per carrier and class. Billable segments count only for
/// delivered messages: carriers bill for what reached the handset.
pub(super) fn billing(tx: &Transaction<'_>, from: Millis, to: Millis) -> DbResult<Vec<BillingRow>> {
    let mut stmt = tx.prepare_cached(
        "SELECT m.carrier, m.class, count(*),
            coalesce(sum((SELECT count(*) FROM segments s
                          WHERE s.message_id = m.id AND s.state = 'acked')), 0),
            coalesce(sum(CASE WHEN m.status = 'delivered' THEN m.billable ELSE 0 END), 0),
            coalesce(sum(m.status = 'delivered'), 0),
            coalesce(sum(m.status = 'undeliverable'), 0),
            coalesce(sum(m.status = 'expired'), 0),
            coalesce(sum(m.status = 'failed'), 0),
            coalesce(sum(m.status = 'rejected'), 0)
         FROM messages AS m
         WHERE m.created_at >= ?1 AND m.created_at < ?2
         GROUP BY m.carrier, m.class ORDER BY m.carrier, m.class",
    )?;
    let rows = stmt.query_map(params![from, to], |row| {
        Ok(BillingRow {
            carrier: row.get(0)?,
            class: row.get(1)?,
            messages: row.get(2)?,
            segments_submitted: row.get(3)?,
            billable_segments: row.get(4)?,
            delivered: row.get(5)?,
            undeliverable: row.get(6)?,
            expired: row.get(7)?,
            failed: row.get(8)?,
            rejected: row.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let params: Vec<i64> = vec![0; stmt.parameter_count()];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |row| row.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn policy_queries_use_their_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut conn).unwrap();
        let p = plan(
            &conn,
            "SELECT carrier, class, count(*) FROM messages
            WHERE created_at >= ?1 AND created_at < ?2 GROUP BY carrier, class",
        );
        assert!(p.contains("messages_created"), "{p}");
        let p = plan(
            &conn,
            "SELECT status, count(*) FROM messages WHERE batch_id = ?1 GROUP BY status",
        );
        assert!(p.contains("messages_batch"), "{p}");
        let p = plan(&conn, "SELECT list, reason FROM lists WHERE number = ?1");
        assert!(p.contains("PRIMARY KEY"), "{p}");
        let p = plan(&conn, "SELECT at FROM events WHERE message_id = ?1 ORDER BY id");
        assert!(p.contains("events_message") && !p.contains("TEMP B-TREE"), "{p}");
    }
}
