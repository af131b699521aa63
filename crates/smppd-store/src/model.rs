//! The records the daemon keeps. Times are milliseconds since the Unix epoch (UTC), passed in
//! by the caller: the store never reads a clock, so tests and the simulator's compressed time
//! drive it.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A message's id: assigned by the store at accept time, unique, increasing.
pub type MessageId = i64;

/// Where a message stands (the API's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Waiting for its turn (`not_before` reached or not).
    Queued,
    /// Waiting for a policy window (quiet hours) or its `send_at`; released at `not_before`.
    Held,
    /// Claimed by a sender; its submit_sm are being written.
    Submitting,
    /// Every segment acknowledged by the SMSC (message_id known); waiting for receipts.
    Submitted,
    /// Every segment's final receipt says delivered.
    Delivered,
    /// A final receipt says it will not be delivered (UNDELIV, REJECTD, EXPIRED at the SMSC…).
    Undeliverable,
    /// Its deadline passed before it was sent; never sent.
    Expired,
    /// Refused before sending (by policy, suppression, or the SMSC's permanent error for the
    /// destination).
    Rejected,
    /// The SMSC refused a segment with a permanent error.
    Failed,
    /// A submit_sm was written but no response came back (crash, lost connection): it may or
    /// may not have reached the SMSC. Not resent unless its class allows it; the operator
    /// decides ([`crate::Store::resolve_unknown`]). A receipt still resolves it.
    Unknown,
    /// Cancelled before it was sent.
    Cancelled,
}

impl MessageStatus {
    /// The API/database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Held => "held",
            Self::Submitting => "submitting",
            Self::Submitted => "submitted",
            Self::Delivered => "delivered",
            Self::Undeliverable => "undeliverable",
            Self::Expired => "expired",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses [`MessageStatus::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Every status, for metrics.
    pub const ALL: [MessageStatus; 11] = [
        Self::Queued,
        Self::Held,
        Self::Submitting,
        Self::Submitted,
        Self::Delivered,
        Self::Undeliverable,
        Self::Expired,
        Self::Rejected,
        Self::Failed,
        Self::Unknown,
        Self::Cancelled,
    ];

    /// No further change expected (a late receipt may still move `Unknown`/`Submitted`).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Delivered
                | Self::Undeliverable
                | Self::Expired
                | Self::Rejected
                | Self::Failed
                | Self::Cancelled
        )
    }
}

/// One segment's place in the submit ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentState {
    /// Not yet written.
    Queued,
    /// Claimed: its submit_sm is (about to be) on the wire.
    Submitting,
    /// submit_sm_resp ESME_ROK with a message_id.
    Acked,
    /// submit_sm_resp with an error status.
    Failed,
    /// Written, response never came.
    Unknown,
}

impl SegmentState {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Submitting => "submitting",
            Self::Acked => "acked",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
        }
    }

    /// Parses [`SegmentState::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Submitting, Self::Acked, Self::Failed, Self::Unknown]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A message as the API accepted it, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The API key (user) that created it: idempotency keys are per key.
    pub api_key: String,
    /// `Idempotency-Key` header, else `client_ref`, else none. A second [`crate::Store::accept`]
    /// with the same (api_key, idempotency_key) returns the first message.
    pub idempotency_key: Option<String>,
    /// The caller's reference, echoed in webhooks.
    pub client_ref: Option<String>,
    /// Destination, E.164 with `+`.
    pub to: String,
    /// Sender id (digits or alphanumeric).
    pub from: String,
    /// UTF-8 text.
    pub text: String,
    /// Message class (`otp`, `dunning`, …).
    pub class: String,
    /// Carrier chosen by the router.
    pub carrier: String,
    /// Number of segments the carrier's profile gives (ledger rows created at accept).
    pub segments: u32,
    /// Billable count under the carrier's billing rule.
    pub billable: u32,
    /// [`MessageStatus::Queued`] or [`MessageStatus::Held`] (policy decided), or
    /// [`MessageStatus::Rejected`] (kept for the record, never sent).
    pub status: MessageStatus,
    /// Not sent before this time (send_at or the end of a quiet window).
    pub not_before: Millis,
    /// Expires instead of going out after this time.
    pub deadline: Option<Millis>,
    /// Whether receipts are requested (registered_delivery).
    pub dlr: bool,
    /// Lower sends first (OTP before campaign).
    pub priority: i32,
    /// Why it was held or rejected, for the record.
    pub reason: Option<String>,
    /// Accept time.
    pub created_at: Millis,
    /// The CSV batch it belongs to, if any.
    pub batch_id: Option<crate::BatchId>,
}

/// What [`crate::Store::accept`] did with one [`NewMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The message's id (the existing one for a repeated idempotency key).
    pub id: MessageId,
    /// Its current status.
    pub status: MessageStatus,
    /// Its carrier.
    pub carrier: String,
    /// Its segment count.
    pub segments: u32,
    /// `true` when this was a repeat of an earlier request (nothing new stored).
    pub duplicate: bool,
}

/// A message handed to a sender by [`crate::Store::claim`]; it and all its segments are now
/// `submitting` for `account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// Its id.
    pub id: MessageId,
    /// Destination (E.164).
    pub to: String,
    /// Sender id.
    pub from: String,
    /// Text.
    pub text: String,
    /// Class.
    pub class: String,
    /// Receipts requested.
    pub dlr: bool,
    /// Deadline (validity_period follows it).
    pub deadline: Option<Millis>,
    /// Number of segments (ledger rows `0..segments`).
    pub segments: u32,
    /// The segments to send now, ascending: all of them, or after a requeue only those not
    /// already acked.
    pub pending: Vec<u32>,
    /// Whether it was re-routed here after another carrier refused the number: its
    /// acceptance teaches the carrier table ([`crate::Store::learn_carrier`]).
    pub rerouted: bool,
}

/// The outcome of one segment's submit_sm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    /// ESME_ROK with this message_id.
    Acked {
        /// The SMSC's id, as sent.
        smsc_id: String,
    },
    /// An error response (command_status).
    Failed {
        /// The command_status.
        status: u32,
        /// Whether a resend could succeed later (ESME_RSYSERR and the like): the segment goes
        /// back to `queued` rather than `failed`.
        retry: bool,
    },
    /// Written (or maybe written) and no response: timeout, connection lost.
    Unknown,
}

/// One segment's result, as the sender reports it to [`crate::Store::record_submits`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitResult {
    /// The message.
    pub message: MessageId,
    /// Segment index, 0-based.
    pub segment: u32,
    /// Carrier account (system_id or configured account name) it was sent on: message ids
    /// are only unique per account.
    pub account: String,
    /// What happened.
    pub outcome: SubmitOutcome,
    /// When the response (or the failure) was seen.
    pub at: Millis,
    /// When the submit_sm was written (for submit latency).
    pub sent_at: Millis,
}

/// A delivery receipt as the receiver parsed it (smpp-dlr), for
/// [`crate::Store::apply_receipts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptIn {
    /// The account it came in on.
    pub account: String,
    /// The id it names (receipted_message_id TLV, else the text's `id:`), as sent.
    pub smsc_id: String,
    /// Final state spelling (`DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`, `DELETED`, `UNKNOWN`,
    /// `ACCEPTD`, `ENROUTE`).
    pub state: String,
    /// Whether this state is final.
    pub is_final: bool,
    /// Whether it means delivered.
    pub delivered: bool,
    /// Error code (the text's `err:` or network_error_code), if any.
    pub error: Option<String>,
    /// When it arrived.
    pub at: Millis,
}

/// What a receipt resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptOutcome {
    /// It matched this segment; the message's status may have changed.
    Matched {
        /// The message.
        message: MessageId,
        /// The segment.
        segment: u32,
        /// The message's status after the receipt.
        status: MessageStatus,
        /// Submit → final receipt latency, when final.
        latency_ms: Option<i64>,
    },
    /// A second final receipt for an already finalised segment: recorded, no change.
    Duplicate {
        /// The message.
        message: MessageId,
        /// The segment.
        segment: u32,
    },
    /// No acked segment has this id yet (the resp may not be recorded yet). Kept on disk and
    /// matched by a later [`crate::Store::record_submits`].
    Held,
}

/// A mobile-originated message, for [`crate::Store::record_mos`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoIn {
    /// Account it came in on.
    pub account: String,
    /// Carrier of that account.
    pub carrier: String,
    /// The handset (E.164 where it could be normalised).
    pub from: String,
    /// The number it was sent to (our sender id).
    pub to: String,
    /// Text (reassembled).
    pub text: String,
    /// When it arrived.
    pub at: Millis,
    /// The text is a stop keyword: `from` goes on the opt-out list (reason `stop_keyword`)
    /// in the same transaction, and the `mo` webhook says `"opted_out": true`.
    pub opt_out: bool,
    /// A message to accept with the MO, in the same transaction (the opt-out
    /// acknowledgement).
    pub reply: Option<NewMessage>,
}

/// A stored MO, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MoRecorded {
    /// Its id.
    pub id: i64,
    /// The conversation it answers: the last message sent to `from` from `to` within the
    /// window given to [`crate::Store::record_mos`].
    pub in_reply_to: Option<MessageId>,
    /// The acknowledgement accepted with it ([`MoIn::reply`]).
    pub reply: Option<MessageId>,
}

/// One ledger row as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentView {
    /// Index, 0-based.
    pub index: u32,
    /// Ledger state.
    pub state: SegmentState,
    /// Account it went out on.
    pub account: Option<String>,
    /// The SMSC's message_id.
    pub message_id: Option<String>,
    /// submit_sm_resp command_status when not OK.
    pub submit_status: Option<u32>,
    /// Receipt state (`DELIVRD`, …).
    pub receipt_state: Option<String>,
    /// Receipt error code.
    pub receipt_error: Option<String>,
    /// When its submit_sm was written.
    pub sent_at: Option<Millis>,
    /// When it was submitted (resp seen).
    pub submitted_at: Option<Millis>,
    /// When its final receipt came.
    pub receipt_at: Option<Millis>,
}

/// A message as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageView {
    /// Id.
    pub id: MessageId,
    /// Status.
    pub status: MessageStatus,
    /// Creator's API key name.
    pub api_key: String,
    /// Caller's reference.
    pub client_ref: Option<String>,
    /// Destination.
    pub to: String,
    /// Sender id.
    pub from: String,
    /// Class.
    pub class: String,
    /// Carrier.
    pub carrier: String,
    /// Segment count.
    pub segments: u32,
    /// Billable count.
    pub billable: u32,
    /// Why it is held/rejected/failed, if known.
    pub reason: Option<String>,
    /// Not before.
    pub not_before: Millis,
    /// Deadline.
    pub deadline: Option<Millis>,
    /// Created.
    pub created_at: Millis,
    /// Last status change.
    pub updated_at: Millis,
    /// The CSV batch it belongs to.
    pub batch_id: Option<crate::BatchId>,
    /// The carrier that refused the number before it was re-routed to `carrier`.
    pub rerouted_from: Option<String>,
    /// Ledger rows.
    pub segment_details: Vec<SegmentView>,
}

/// What [`crate::Store::cancel`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued or held and is now cancelled.
    Cancelled,
    /// Too late: it has this status.
    NotCancellable(MessageStatus),
    /// No such message.
    NotFound,
}

/// What the operator decided for an `unknown` message ([`crate::Store::resolve_unknown`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownDecision {
    /// Send the unknown segments again (the operator accepts a possible duplicate).
    Resend,
    /// Give up: mark it failed.
    Abandon,
}

/// A webhook waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookJob {
    /// Outbox row id.
    pub id: i64,
    /// `status` or `mo`.
    pub kind: String,
    /// JSON body to POST (built by the store inside the transaction that changed the state).
    pub payload: String,
    /// Attempts so far.
    pub attempts: u32,
}

/// Counts for the queue-depth gauge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthRow {
    /// Status.
    pub status: MessageStatus,
    /// Class.
    pub class: String,
    /// Carrier.
    pub carrier: String,
    /// Messages.
    pub count: u64,
}

/// What [`crate::Store::recover`] did at startup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Messages found `submitting` whose class allows a resend: back to `queued` (only their
    /// non-acked segments are resent).
    pub requeued: u64,
    /// Messages found `submitting` that are now `unknown`.
    pub unknown: u64,
}
