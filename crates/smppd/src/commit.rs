//! Group commit: many callers hand items to one worker, which writes everything waiting in
//! one store transaction (one fsync) and hands each caller its own results back. This is how
//! 10,000 API requests per second share a handful of fsyncs instead of needing one each.

use std::sync::Arc;

use smppd_store::StoreError;
use tokio::sync::{mpsc, oneshot};

type Reply<O> = oneshot::Sender<Result<Vec<O>, Arc<StoreError>>>;

/// A handle to one group-commit worker. Cheap to clone.
pub struct GroupCommit<I, O> {
    tx: mpsc::Sender<(Vec<I>, Reply<O>)>,
}

impl<I, O> Clone for GroupCommit<I, O> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone() }
    }
}

impl<I: Send + 'static, O: Send + 'static> GroupCommit<I, O> {
    /// Starts a worker that calls `write` (on a blocking thread) with up to `max_items`
    /// items at once; `write` must return one output per input, in order. `queue` bounds
    /// the callers waiting (back-pressure).
    pub fn spawn<F>(queue: usize, max_items: usize, write: F) -> Self
    where
        F: Fn(&[I]) -> Result<Vec<O>, StoreError> + Send + Sync + 'static,
    {
        let (tx, rx) = mpsc::channel(queue);
        tokio::spawn(worker(rx, max_items, Arc::new(write)));
        Self { tx }
    }

    /// Writes `items` (with whatever else is waiting) and returns their outputs.
    pub async fn write(&self, items: Vec<I>) -> Result<Vec<O>, Arc<StoreError>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, rx) = oneshot::channel();
        let stopped = || Arc::new(StoreError::new("group commit", "the writer has stopped"));
        self.tx.send((items, reply)).await.map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }
}

async fn worker<I, O, F>(
    mut rx: mpsc::Receiver<(Vec<I>, Reply<O>)>,
    max_items: usize,
    write: Arc<F>,
) where
    I: Send + 'static,
    O: Send + 'static,
    F: Fn(&[I]) -> Result<Vec<O>, StoreError> + Send + Sync + 'static,
{
    let mut waiting = Vec::new();
    while rx.recv_many(&mut waiting, 1024).await > 0 {
        let mut items = Vec::new();
        let mut callers = Vec::new();
        // Take requests until the group is big enough; the rest go in the next group.
        let mut rest = Vec::new();
        for (batch, reply) in waiting.drain(..) {
            if items.is_empty() || items.len() + batch.len() <= max_items {
                callers.push((batch.len(), reply));
                items.extend(batch);
            } else {
                rest.push((batch, reply));
            }
        }
        waiting = rest;
        let write = write.clone();
        let result = tokio::task::spawn_blocking(move || write(&items))
            .await
            .unwrap_or_else(|e| Err(StoreError::new("group commit", e.to_string())));
        reply_each(callers, result);
    }
}

fn reply_each<O>(callers: Vec<(usize, Reply<O>)>, result: Result<Vec<O>, StoreError>) {
    match result {
        Ok(outputs) => {
            let mut outputs = outputs.into_iter();
            for (n, reply) in callers {
                let _ = reply.send(Ok(outputs.by_ref().take(n).collect()));
            }
        }
        Err(e) => {
            let e = Arc::new(e);
            for (_, reply) in callers {
                let _ = reply.send(Err(e.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_share_writes_and_get_their_own_results() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let gc = GroupCommit::spawn(64, 10_000, move |items: &[u32]| {
            c.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(std::time::Duration::from_millis(5));
            Ok(items.iter().map(|i| i * 10).collect())
        });
        let mut tasks = Vec::new();
        for k in 0..50u32 {
            let gc = gc.clone();
            tasks
                .push(tokio::spawn(async move { (k, gc.write(vec![k, k + 1000]).await.unwrap()) }));
        }
        for t in tasks {
            let (k, out) = t.await.unwrap();
            assert_eq!(out, vec![k * 10, (k + 1000) * 10]);
        }
        assert!(calls.load(Ordering::Relaxed) < 50, "writes were grouped");
    }

    #[tokio::test]
    async fn a_failed_write_fails_every_caller_in_the_group() {
        let gc: GroupCommit<u32, u32> =
            GroupCommit::spawn(8, 100, |_| Err(StoreError::new("test", "disk full")));
        let e = gc.write(vec![1]).await.unwrap_err();
        assert!(e.to_string().contains("disk full"));
    }
}
