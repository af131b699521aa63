//! Group commit. One thread owns the writer connection. Every write that is waiting when it
//! is free runs in the same transaction, each in its own savepoint, and they share one commit
//! (one fsync). The daemon's binds claim, record submit results and apply receipts at the
//! same time; each of those used to take its own transaction and its own commit, and the
//! commit (mostly the fsync and writing the same hot pages again) was a quarter of the
//! writer's time.
//!
//! A write that fails rolls back to its savepoint and gets its own error; the others in the
//! group are not affected. If the group's transaction itself fails (BEGIN, a savepoint, or
//! COMMIT), every write in it gets that error and none of them took effect.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

use rusqlite::{Connection, TransactionBehavior};

use super::ids::Formats;
use super::tx::Tx;
use super::DbResult;
use crate::{Result, StoreError};

/// Most writes run in one transaction: bounds the time one commit keeps the others waiting.
const MAX_GROUP: usize = 64;
/// Writes queued for the writer thread; callers block beyond this (back-pressure).
const QUEUE: usize = 256;

/// A queued write. Given the transaction it runs; given `None` (the group's transaction
/// could not start or broke before its turn) it does not run and reports the group's error.
type Work = Box<dyn FnOnce(Option<(&Tx<'_>, &mut Formats)>) -> Finish + Send>;

/// Sends a caller its result once its group ended; `Some` is the group's error (nothing was
/// committed).
type Deliver = Box<dyn FnOnce(Option<&str>) + Send>;

/// A write that ran (or did not), waiting for its group to end.
struct Finish {
    /// Whether the write succeeded (its savepoint is kept).
    ok: bool,
    deliver: Deliver,
}

/// The writer thread and the queue to it. Dropping it lets the thread finish what is queued,
/// then waits for it, so the connection is closed when the store is gone.
pub(super) struct GroupWriter {
    queue: Option<SyncSender<Work>>,
    thread: Option<JoinHandle<()>>,
}

impl GroupWriter {
    /// Starts the writer thread over `conn`.
    pub(super) fn start(conn: Connection, formats: Formats) -> std::io::Result<Self> {
        let (queue, works) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("smppd-store-writer".into())
            .spawn(move || serve(conn, formats, works))?;
        Ok(Self { queue: Some(queue), thread: Some(thread) })
    }

    /// Runs `f` in the writer's next transaction and returns its result once that
    /// transaction has committed.
    pub(super) fn write<T: Send + 'static>(
        &self,
        op: &'static str,
        f: impl FnOnce(&Tx<'_>, &mut Formats) -> DbResult<T> + Send + 'static,
    ) -> Result<T> {
        let (work, answer) = work(op, f);
        let stopped = || StoreError::new(op, "the store's writer thread has stopped");
        self.queue.as_ref().ok_or_else(stopped)?.send(work).map_err(|_| stopped())?;
        answer.recv().map_err(|_| stopped())?
    }
}

/// `f` as a queued write, and where its result will arrive.
fn work<T: Send + 'static>(
    op: &'static str,
    f: impl FnOnce(&Tx<'_>, &mut Formats) -> DbResult<T> + Send + 'static,
) -> (Work, Receiver<Result<T>>) {
    let (reply, answer) = sync_channel::<Result<T>>(1);
    let work: Work = Box::new(move |tx| {
        let out = match tx {
            Some((tx, formats)) => catch_unwind(AssertUnwindSafe(|| f(tx, formats)))
                .unwrap_or_else(|panic| Err(panic_text(&panic).into())),
            None => Err("not run: the transaction it was grouped in failed".into()),
        };
        let ok = out.is_ok();
        let deliver: Deliver = Box::new(move |group_error: Option<&str>| {
            let result = match (out, group_error) {
                (Ok(_), Some(e)) => Err(StoreError::new(op, e.to_owned())),
                (Ok(v), None) => Ok(v),
                (Err(e), _) => Err(StoreError::new(op, e)),
            };
            // The caller may have gone (a cancelled task): nothing to tell.
            let _ = reply.send(result);
        });
        Finish { ok, deliver }
    });
    (work, answer)
}

impl Drop for GroupWriter {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(mut conn: Connection, mut formats: Formats, works: Receiver<Work>) {
    while let Ok(first) = works.recv() {
        let mut group = vec![first];
        group.extend(works.try_iter().take(MAX_GROUP - 1));
        run_group(&mut conn, &mut formats, group);
    }
}

/// Runs `group` in one transaction and tells each caller how it ended.
fn run_group(conn: &mut Connection, formats: &mut Formats, group: Vec<Work>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => Tx::new(tx),
        Err(e) => return deliver_all(group.into_iter().map(|w| w(None)).collect(), Some(e)),
    };
    let (finishes, broken) = if group.len() == 1 {
        run_alone(&tx, formats, group)
    } else {
        run_in_savepoints(&tx, formats, group)
    };
    let lone_failure = finishes.len() == 1 && !finishes[0].ok;
    let error = if broken.is_some() || lone_failure {
        // Dropping the transaction rolls it back; a lone failed write reports its own error.
        drop(tx);
        broken
    } else {
        tx.commit().err()
    };
    deliver_all(finishes, error);
}

/// One write needs no savepoint: if it fails, the whole transaction is rolled back.
fn run_alone(
    tx: &Tx<'_>,
    formats: &mut Formats,
    group: Vec<Work>,
) -> (Vec<Finish>, Option<super::DbError>) {
    (group.into_iter().map(|w| w(Some((tx, formats)))).collect(), None)
}

/// Each write in its own savepoint. Once the transaction is broken (a savepoint statement
/// failed), the rest are not run.
fn run_in_savepoints(
    tx: &Tx<'_>,
    formats: &mut Formats,
    group: Vec<Work>,
) -> (Vec<Finish>, Option<super::DbError>) {
    let mut finishes = Vec::with_capacity(group.len());
    let mut broken = None;
    for work in group {
        if broken.is_some() {
            finishes.push(work(None));
            continue;
        }
        let counts = tx.counts();
        if let Err(e) = tx.execute_batch("SAVEPOINT write") {
            broken = Some(e.into());
            finishes.push(work(None));
            continue;
        }
        let finish = work(Some((tx, formats)));
        let end = if finish.ok {
            tx.execute_batch("RELEASE write")
        } else {
            tx.restore_counts(counts);
            tx.execute_batch("ROLLBACK TO write; RELEASE write")
        };
        if let Err(e) = end {
            broken = Some(e.into());
        }
        finishes.push(finish);
    }
    (finishes, broken)
}

fn deliver_all(finishes: Vec<Finish>, error: Option<impl std::fmt::Display>) {
    let error = error.map(|e| e.to_string());
    for finish in finishes {
        (finish.deliver)(error.as_deref());
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("panicked: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v INTEGER NOT NULL)").unwrap();
        conn
    }

    fn insert(v: i64, fail: bool) -> impl FnOnce(&Tx<'_>, &mut Formats) -> DbResult<i64> {
        move |tx, _| {
            tx.execute("INSERT INTO t (v) VALUES (?1)", [v])?;
            if fail {
                return Err(format!("write {v} failed after its insert").into());
            }
            Ok(v)
        }
    }

    fn stored(conn: &Connection) -> Vec<i64> {
        let mut stmt = conn.prepare("SELECT v FROM t ORDER BY v").unwrap();
        stmt.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn a_failed_write_in_a_group_is_rolled_back_alone() {
        let mut conn = table();
        let (w1, r1) = work("one", insert(1, false));
        let (w2, r2) = work("two", insert(2, true));
        let (w3, r3) = work("three", insert(3, false));
        let (w4, r4) = work("four", |_, _| -> DbResult<()> { panic!("bug in a write") });
        run_group(&mut conn, &mut Formats::default(), vec![w1, w2, w3, w4]);
        assert_eq!(r1.recv().unwrap().unwrap(), 1);
        let e = r2.recv().unwrap().unwrap_err();
        assert_eq!(
            (e.op, e.source.to_string().as_str()),
            ("two", "write 2 failed after its insert")
        );
        assert_eq!(r3.recv().unwrap().unwrap(), 3);
        assert!(r4.recv().unwrap().unwrap_err().source.to_string().contains("bug in a write"));
        assert_eq!(stored(&conn), [1, 3], "one commit for the group, without the failed write");
    }

    #[test]
    fn a_lone_failed_write_commits_nothing() {
        let mut conn = table();
        let (w, r) = work("lone", insert(7, true));
        run_group(&mut conn, &mut Formats::default(), vec![w]);
        assert!(r.recv().unwrap().is_err());
        assert!(stored(&conn).is_empty());
    }

    #[test]
    fn when_the_group_cannot_start_every_write_gets_the_error_and_none_runs() {
        let mut conn = table();
        conn.execute_batch("BEGIN").unwrap(); // BEGIN IMMEDIATE inside a transaction fails
        let (w1, r1) = work("one", insert(1, false));
        let (w2, r2) = work("two", insert(2, false));
        run_group(&mut conn, &mut Formats::default(), vec![w1, w2]);
        for r in [r1, r2] {
            assert!(r.recv().unwrap().unwrap_err().source.to_string().contains("transaction"));
        }
        conn.execute_batch("ROLLBACK").unwrap();
        assert!(stored(&conn).is_empty());
    }

    #[test]
    fn writes_from_many_threads_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (v INTEGER NOT NULL)")
            .unwrap();
        let writer = GroupWriter::start(conn, Formats::default()).unwrap();
        std::thread::scope(|s| {
            for thread in 0..8 {
                let writer = &writer;
                s.spawn(move || {
                    for i in 0..50 {
                        let v = thread * 1000 + i;
                        assert_eq!(writer.write("insert", insert(v, false)).unwrap(), v);
                    }
                });
            }
        });
        drop(writer);
        let conn = Connection::open(dir.path().join("t.db")).unwrap();
        assert_eq!(stored(&conn).len(), 400);
    }
}
