//! The carrier's clock: one task per carrier that fires what is due - final states and their
//! receipts, intermediate receipts, deliver_sm retries - and gives up on concatenated
//! messages whose parts never all came.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::sync::watch;

use crate::carrier::{Carrier, Delivery, HandsetMsg};
use crate::receipt::Stat;
use crate::stats::Counters;
use crate::time::unix_now;

pub(crate) enum Job {
    Final { msg: Arc<HandsetMsg>, stat: Stat, err: u16 },
    Intermediate { msg: Arc<HandsetMsg>, stat: Stat },
    Redeliver(Box<Delivery>),
}

/// Schedules jobs on the carrier's engine.
#[derive(Clone)]
pub(crate) struct EngineHandle {
    tx: UnboundedSender<(Instant, Job)>,
}

impl EngineHandle {
    pub(crate) fn channel() -> (Self, UnboundedReceiver<(Instant, Job)>) {
        let (tx, rx) = unbounded_channel();
        (Self { tx }, rx)
    }

    pub(crate) fn finalize(&self, due: Instant, msg: Arc<HandsetMsg>, stat: Stat, err: u16) {
        let _ = self.tx.send((due, Job::Final { msg, stat, err }));
    }

    pub(crate) fn intermediate(&self, due: Instant, msg: Arc<HandsetMsg>, stat: Stat) {
        let _ = self.tx.send((due, Job::Intermediate { msg, stat }));
    }

    pub(crate) fn redeliver(&self, due: Instant, d: Box<Delivery>) {
        let _ = self.tx.send((due, Job::Redeliver(d)));
    }
}

struct Timed {
    due: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Timed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Timed {}
impl PartialOrd for Timed {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timed {
    // Reversed: BinaryHeap is a max-heap and the earliest job must come out first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// Runs until `shutdown` turns true. Holds the carrier weakly so that dropping the simulator
/// frees it.
pub(crate) async fn run(
    carrier: Weak<Carrier>,
    mut rx: UnboundedReceiver<(Instant, Job)>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let sweep_every = Duration::from_millis(500);
    let mut next_sweep = Instant::now() + sweep_every;
    loop {
        let next = heap.peek().map_or(next_sweep, |t: &Timed| t.due.min(next_sweep));
        tokio::select! {
            msg = rx.recv() => match msg {
                Some((due, job)) => {
                    seq += 1;
                    heap.push(Timed { due, seq, job });
                    // Take whatever else is queued before sleeping again.
                    while let Ok((due, job)) = rx.try_recv() {
                        seq += 1;
                        heap.push(Timed { due, seq, job });
                    }
                }
                None => return,
            },
            _ = tokio::time::sleep_until(next.into()) => {}
            _ = shutdown.changed() => return,
        }
        let Some(c) = carrier.upgrade() else { return };
        let now = Instant::now();
        let now_unix = unix_now();
        while heap.peek().is_some_and(|t| t.due <= now) {
            let t = heap.pop().expect("peeked");
            match t.job {
                Job::Final { msg, stat, err } => {
                    c.finalize(&msg, stat, err, now_unix, |d| {
                        c.route(d);
                    });
                }
                Job::Intermediate { msg, stat } => {
                    c.intermediate(&msg, stat, now_unix, |d| {
                        c.route(d);
                    });
                }
                Job::Redeliver(d) => {
                    c.route(d);
                }
            }
        }
        if now >= next_sweep {
            next_sweep = now + sweep_every;
            let timeout = Duration::from_millis(c.cfg.concat.timeout_ms);
            for parts in c.assembler.expire(now, timeout) {
                Counters::inc(&c.stats.concat_incomplete);
                // The parts that came are reported undeliverable; the message never was whole.
                let msg = Arc::new(HandsetMsg {
                    parts,
                    body: Box::default(),
                    data_coding: 0,
                    segments: 0,
                    billable: 0,
                });
                c.finalize(&msg, Stat::Undeliv, 0, now_unix, |d| {
                    c.route(d);
                });
            }
        }
    }
}
