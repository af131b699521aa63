//! [`Pipeline`]: many submits in flight from one task, their results in one stream.

use std::future::Future;

use smpp_codec::{Body, SubmitSm, Tlvs};
use tokio::sync::mpsc;

use crate::client::{closed, EsmeClient, Submitted};
use crate::driver::{Command, Reply};
use crate::error::Error;

/// The result of one submit made through a [`Pipeline`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Completion {
    /// The tag given to [`Pipeline::submit`] (also in [`Submitted::tag`] on success).
    pub tag: u64,
    /// As [`EsmeClient::submit`] would have resolved.
    pub result: Result<Submitted, Error>,
}

/// Submits from one task with many in flight, the results coming back in one stream
/// ([`Pipeline::next`]) in the order the responses arrive.
///
/// [`EsmeClient::submit`] costs a future, a oneshot channel and a task wake-up per submit,
/// so keeping a window of 100 full takes 100-odd tasks. A pipeline is one task's loop: queue
/// submits while fewer than the depth you want are in flight, then take results. The same
/// binds, pacing, throttling pause and receipt correlation apply.
///
/// ```no_run
/// # async fn f(client: smpp_tokio::EsmeClient, todo: Vec<smpp_codec::SubmitSm>) {
/// let mut pipeline = client.pipeline();
/// let mut todo = todo.into_iter().enumerate();
/// loop {
///     while pipeline.in_flight() < 200 {
///         let Some((tag, sm)) = todo.next() else { break };
///         if let Err(e) = pipeline.submit(tag as u64, sm, smpp_codec::Tlvs::new()).await {
///             eprintln!("message {tag} not queued: {e}");
///         }
///     }
///     let Some(done) = pipeline.next().await else { break }; // nothing in flight, nothing left
///     println!("message {}: {:?}", done.tag, done.result.map(|s| s.message_id));
/// }
/// # }
/// ```
///
/// Every submit that [`Pipeline::submit`] accepted yields exactly one [`Completion`], also
/// when the connection is lost or the submit future is dropped while waiting for queue space
/// (an error then). Results wait in the pipeline until taken: their number is bounded by
/// what you keep in flight.
pub struct Pipeline {
    client: EsmeClient,
    tx: mpsc::UnboundedSender<Completion>,
    rx: mpsc::UnboundedReceiver<Completion>,
    in_flight: usize,
}

impl Pipeline {
    pub(crate) fn new(client: EsmeClient) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Self { client, tx, rx, in_flight: 0 }
    }

    /// Submits accepted whose [`Completion`] has not been taken yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Queues a submit on one of the client's binds. Resolves once the bind's queue took it:
    /// waits (back-pressure) only while that queue is full. Its result comes from
    /// [`Pipeline::next`] with `tag`. Fails, without a [`Completion`] to follow, when the
    /// client cannot send (receiver-only, or its connection task stopped).
    ///
    /// Not an `async fn`: a free slot is taken before this returns, so the message is moved
    /// once into its box instead of into a future first (a ~200-octet copy each).
    pub fn submit(
        &mut self,
        tag: u64,
        sm: SubmitSm,
        tlvs: Tlvs,
    ) -> impl Future<Output = Result<(), Error>> + '_ {
        let body = Box::new(Body::SubmitSm(sm));
        let first_try = self.try_queue(tag, body, tlvs);
        async move {
            match first_try {
                Queued::Done(result) => result,
                Queued::Full(command) => self.queue_waiting(command).await,
            }
        }
    }

    fn try_queue(&mut self, tag: u64, body: Box<Body>, tlvs: Tlvs) -> Queued {
        let sender = match self.client.pick_sender() {
            Ok(sender) => sender,
            Err(e) => return Queued::Done(Err(e)),
        };
        let reply = Reply::Pipeline(ToPipeline { tag, tx: Some(self.tx.clone()) });
        // Counted before any wait: if the caller drops the future while it waits, the
        // command is dropped with it and its completion (an error) still comes.
        self.in_flight += 1;
        match sender.try_send(Command::Request { tag, body, tlvs, reply }) {
            Ok(()) => Queued::Done(Ok(())),
            Err(mpsc::error::TrySendError::Full(command)) => Queued::Full(command),
            Err(mpsc::error::TrySendError::Closed(command)) => Queued::Done(self.refused(command)),
        }
    }

    async fn queue_waiting(&mut self, command: Command) -> Result<(), Error> {
        let sent = match self.client.pick_sender() {
            Ok(sender) => sender.send(command).await.map_err(|e| e.0),
            Err(_) => Err(command),
        };
        sent.or_else(|command| self.refused(command))
    }

    /// Takes back a command no bind accepted: the caller gets the error, and no completion
    /// follows.
    fn refused(&mut self, command: Command) -> Result<(), Error> {
        if let Command::Request { reply: Reply::Pipeline(mut to), .. } = command {
            to.tx = None;
        }
        self.in_flight -= 1;
        Err(closed())
    }

    /// The next result, waiting for it; `None` when nothing is in flight.
    pub async fn next(&mut self) -> Option<Completion> {
        if self.in_flight == 0 {
            return None;
        }
        // Never `None`: this pipeline holds a sender.
        let done = self.rx.recv().await?;
        self.in_flight -= 1;
        Some(done)
    }

    /// A result that has arrived already, without waiting.
    pub fn try_next(&mut self) -> Option<Completion> {
        let done = self.rx.try_recv().ok()?;
        self.in_flight -= 1;
        Some(done)
    }
}

/// What became of a submit's first try at a bind's queue.
enum Queued {
    Done(Result<(), Error>),
    /// The queue was full: wait for room.
    Full(Command),
}

/// Where the driver sends a pipeline submit's result. Dropped unsent (the connection task
/// stopped, or the submit future was dropped with the command), it sends an error, so that
/// every accepted submit completes once.
pub(crate) struct ToPipeline {
    pub(crate) tag: u64,
    pub(crate) tx: Option<mpsc::UnboundedSender<Completion>>,
}

impl ToPipeline {
    pub(crate) fn send(mut self, result: Result<Submitted, Error>) {
        if let Some(tx) = self.tx.take() {
            // The pipeline is gone when its owner dropped it: nobody is waiting.
            let _ = tx.send(Completion { tag: self.tag, result });
        }
    }
}

impl Drop for ToPipeline {
    fn drop(&mut self) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Completion { tag: self.tag, result: Err(closed()) });
        }
    }
}
