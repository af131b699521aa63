//! The schema, as numbered migrations recorded in `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use super::DbResult;

/// Migration `i` brings the schema from version `i` to `i + 1`. Append only: a shipped
/// migration never changes, since databases in the field already ran it.
const MIGRATIONS: &[&str] = &[
    V1,
    POLICY_LAYER,
    HELD_SWEEP,
    CARRIERS_LEARNED,
    CONFIGURED_FORMATS,
    DEPTH_BY_WRITER,
    BATCH_REVISION,
];

/// Brings the database to the latest version, each migration in its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> DbResult<()> {
    let latest = MIGRATIONS.len();
    let current: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if current > latest {
        return Err(format!(
            "database schema version {current} is newer than this build knows ({latest})"
        )
        .into());
    }
    for (version, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
    Ok(())
}

const V1: &str = r#"
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    api_key     TEXT    NOT NULL,
    idem_key    TEXT,
    client_ref  TEXT,
    to_addr     TEXT    NOT NULL,
    from_addr   TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    class       TEXT    NOT NULL,
    carrier     TEXT    NOT NULL,
    account     TEXT,
    segments    INTEGER NOT NULL,
    billable    INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    reason      TEXT,
    not_before  INTEGER NOT NULL,
    deadline    INTEGER,
    dlr         INTEGER NOT NULL,
    priority    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX messages_idem ON messages (api_key, idem_key) WHERE idem_key IS NOT NULL;
-- Partial: only waiting messages, so claims seek past nothing that was already sent.
CREATE INDEX messages_claim ON messages (carrier, priority, not_before)
    WHERE status IN ('queued', 'held');
CREATE INDEX messages_deadline ON messages (deadline)
    WHERE status IN ('queued', 'held') AND deadline IS NOT NULL;
CREATE INDEX messages_submitting ON messages (class) WHERE status = 'submitting';
CREATE INDEX messages_reply ON messages (to_addr, from_addr, created_at);

CREATE TABLE segments (
    message_id        INTEGER NOT NULL REFERENCES messages (id),
    idx               INTEGER NOT NULL,
    state             TEXT    NOT NULL,
    account           TEXT,
    smsc_id           TEXT,
    submit_status     INTEGER,
    sent_at           INTEGER,
    submitted_at      INTEGER,
    receipt_state     TEXT,
    receipt_error     TEXT,
    receipt_final     INTEGER NOT NULL DEFAULT 0,
    receipt_delivered INTEGER NOT NULL DEFAULT 0,
    receipt_at        INTEGER,
    receipts          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (message_id, idx)
) WITHOUT ROWID;

-- One row per reading of an acked segment's SMSC id; the primary key is the lookup path.
CREATE TABLE id_keys (
    account    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    reading    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    idx        INTEGER NOT NULL,
    PRIMARY KEY (account, key, reading, message_id, idx),
    FOREIGN KEY (message_id, idx) REFERENCES segments (message_id, idx)
) WITHOUT ROWID;

CREATE TABLE held_receipts (
    id        INTEGER PRIMARY KEY,
    account   TEXT    NOT NULL,
    smsc_id   TEXT    NOT NULL,
    state     TEXT    NOT NULL,
    is_final  INTEGER NOT NULL,
    delivered INTEGER NOT NULL,
    error     TEXT,
    at        INTEGER NOT NULL
);
-- No foreign key to held_receipts: deleting a held receipt would then scan this table for
-- children; the store deletes the keys itself, by primary key.
CREATE TABLE held_keys (
    account TEXT    NOT NULL,
    key     TEXT    NOT NULL,
    reading INTEGER NOT NULL,
    held_id INTEGER NOT NULL,
    PRIMARY KEY (account, key, reading, held_id)
) WITHOUT ROWID;

CREATE TABLE id_formats (
    account         TEXT PRIMARY KEY,
    submit_reading  INTEGER NOT NULL,
    receipt_reading INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE mos (
    id          INTEGER PRIMARY KEY,
    account     TEXT    NOT NULL,
    carrier     TEXT    NOT NULL,
    from_addr   TEXT    NOT NULL,
    to_addr     TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    in_reply_to INTEGER REFERENCES messages (id)
);

CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    message_id   INTEGER,
    payload      TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    delivered_at INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX webhooks_due ON webhooks (next_at) WHERE delivered_at IS NULL;

-- Message counts per (status, class, carrier), kept by the triggers below so that gauges
-- and the backlog check read a few rows instead of counting a million.
CREATE TABLE depth (
    status  TEXT    NOT NULL,
    class   TEXT    NOT NULL,
    carrier TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (status, class, carrier)
) WITHOUT ROWID;

CREATE TRIGGER messages_depth_insert AFTER INSERT ON messages BEGIN
    INSERT INTO depth (status, class, carrier, n) VALUES (new.status, new.class, new.carrier, 1)
        ON CONFLICT (status, class, carrier) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER messages_depth_update AFTER UPDATE OF status, class, carrier ON messages
WHEN old.status IS NOT new.status OR old.class IS NOT new.class
    OR old.carrier IS NOT new.carrier
BEGIN
    UPDATE depth SET n = n - 1
        WHERE status = old.status AND class = old.class AND carrier = old.carrier;
    INSERT INTO depth (status, class, carrier, n) VALUES (new.status, new.class, new.carrier, 1)
        ON CONFLICT (status, class, carrier) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER messages_depth_delete AFTER DELETE ON messages BEGIN
    UPDATE depth SET n = n - 1
        WHERE status = old.status AND class = old.class AND carrier = old.carrier;
END;
"#;

/// Suppression and opt-out lists, CSV batches with approval, re-routes, audit events, and
/// the index the billing report reads by.
const POLICY_LAYER: &str = r#"
-- No foreign key to batches: accept would check it on every insert; batch ids come from
-- the store itself.
ALTER TABLE messages ADD COLUMN batch_id INTEGER;
ALTER TABLE messages ADD COLUMN rerouted_from TEXT;
CREATE INDEX messages_batch ON messages (batch_id, status) WHERE batch_id IS NOT NULL;
-- Billing reports by period. created_at grows with the id, so inserts append at the end.
CREATE INDEX messages_created ON messages (created_at);

-- Both lists in one table: (number, list) as the key lets one seek answer both for a number.
CREATE TABLE lists (
    number   TEXT    NOT NULL,
    list     TEXT    NOT NULL,
    reason   TEXT    NOT NULL,
    added_by TEXT    NOT NULL,
    added_at INTEGER NOT NULL,
    PRIMARY KEY (number, list)
) WITHOUT ROWID;

CREATE TABLE batches (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL,
    class         TEXT    NOT NULL,
    from_addr     TEXT    NOT NULL,
    template      TEXT    NOT NULL,
    number_column TEXT    NOT NULL,
    send_at       INTEGER,
    deadline      INTEGER,
    status        TEXT    NOT NULL,
    created_by    TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    edited_by     TEXT,
    edited_at     INTEGER,
    submitted_by  TEXT,
    submitted_at  INTEGER,
    approved_by   TEXT,
    approved_at   INTEGER,
    rejected_by   TEXT,
    rejected_at   INTEGER,
    reject_reason TEXT,
    cancelled_by  TEXT,
    cancelled_at  INTEGER,
    updated_at    INTEGER NOT NULL
);

-- Checked and rendered rows; errors is a JSON array of reasons, NULL for a valid row.
CREATE TABLE batch_rows (
    batch_id INTEGER NOT NULL REFERENCES batches (id),
    line     INTEGER NOT NULL,
    to_addr  TEXT,
    text     TEXT,
    carrier  TEXT,
    segments INTEGER NOT NULL,
    billable INTEGER NOT NULL,
    errors   TEXT,
    PRIMARY KEY (batch_id, line)
) WITHOUT ROWID;

-- What a paused batch's waiting messages were before the pause, restored on resume.
CREATE TABLE paused (
    message_id INTEGER PRIMARY KEY,
    batch_id   INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    not_before INTEGER NOT NULL,
    reason     TEXT
);
CREATE INDEX paused_batch ON paused (batch_id);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    actor      TEXT,
    detail     TEXT
);
CREATE INDEX events_message ON events (message_id, id);
CREATE INDEX events_at ON events (at);
"#;

/// Held receipts are looked at again once, after a grace period (`receipts::sweep`).
const HELD_SWEEP: &str = r#"
ALTER TABLE held_receipts ADD COLUMN checked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX held_unchecked ON held_receipts (at) WHERE NOT checked;
"#;

/// Numbers whose carrier was learned from a re-route, so a restart keeps the lesson.
const CARRIERS_LEARNED: &str = r#"
CREATE TABLE carriers_learned (
    number  TEXT PRIMARY KEY,
    carrier TEXT    NOT NULL,
    at      INTEGER NOT NULL
) WITHOUT ROWID;
"#;

/// Whether an account's id format came from the configuration (forgotten when it says
/// `auto` again) or was learned (kept).
const CONFIGURED_FORMATS: &str = r#"
ALTER TABLE id_formats ADD COLUMN configured INTEGER NOT NULL DEFAULT 0;
"#;

/// `depth` is kept by the writer (`tx.rs`) instead of triggers, which cost a statement
/// journal and two statements on every status change. Recounted once here.
const DEPTH_BY_WRITER: &str = r#"
DROP TRIGGER messages_depth_insert;
DROP TRIGGER messages_depth_update;
DROP TRIGGER messages_depth_delete;
DELETE FROM depth;
INSERT INTO depth (status, class, carrier, n)
    SELECT status, class, carrier, count(*) FROM messages GROUP BY status, class, carrier;
"#;

/// A batch's revision, bumped by every edit: submit and approve queue messages built from
/// one revision, and are refused when the batch changed in between.
const BATCH_REVISION: &str = r#"
ALTER TABLE batches ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// The query plan of `sql`, one line per step.
    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let count = stmt.parameter_count();
        let params: Vec<i64> = vec![0; count];
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |row| row.get::<_, String>(3))
            .unwrap();
        rows.map(|r| r.unwrap()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn hot_queries_use_their_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let show = |sql| plan(&conn, sql);
        for sql in [
            "SELECT min(priority) FROM messages
             WHERE carrier = ?1 AND status IN ('queued', 'held') AND priority > ?2",
            "SELECT id FROM messages
             WHERE carrier = ?1 AND status IN ('queued', 'held') AND priority = ?2
               AND not_before <= ?3 AND (deadline IS NULL OR deadline > ?3)
             ORDER BY not_before, id LIMIT ?4",
        ] {
            let p = show(sql);
            assert!(p.contains("messages_claim") && !p.contains("TEMP B-TREE"), "{p}");
        }
        let p = show(
            "SELECT id FROM messages
             WHERE status IN ('queued', 'held') AND deadline IS NOT NULL AND deadline <= ?1",
        );
        assert!(p.contains("messages_deadline"), "{p}");
        let p = show("SELECT id, class FROM messages WHERE status = 'submitting'");
        assert!(p.contains("messages_submitting"), "{p}");
        let p = show("SELECT EXISTS (SELECT 1 FROM held_receipts WHERE NOT checked AND at <= ?1)");
        assert!(p.contains("held_unchecked"), "{p}");
        let p = show(
            "SELECT id, client_ref FROM messages
             WHERE to_addr = ?1 AND from_addr = ?2 AND created_at BETWEEN ?3 AND ?4
               AND status NOT IN ('queued', 'held', 'cancelled', 'rejected', 'expired')
             ORDER BY created_at DESC, id DESC LIMIT 1",
        );
        assert!(p.contains("messages_reply") && !p.contains("TEMP B-TREE"), "{p}");
        let p = show(
            "SELECT id FROM webhooks WHERE delivered_at IS NULL AND next_at <= ?1
             ORDER BY next_at, id LIMIT ?2",
        );
        assert!(p.contains("webhooks_due") && !p.contains("TEMP B-TREE"), "{p}");
    }
}
