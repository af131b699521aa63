//! The records of the policy layer: suppression and opt-out lists, CSV batches with their
//! approval, carrier re-routes, the billing report and the audit trail. Like the rest of the
//! model, every time is passed in by the caller.

use serde::{Deserialize, Serialize};

use crate::{MessageId, MessageStatus, Millis, NewMessage};

/// Which of the two recipient lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    /// Never send anything to these numbers (recycled numbers / 他人接続, operator-added).
    Suppression,
    /// Send no traffic of classes that honour opt-out (campaigns).
    OptOut,
}

impl ListKind {
    /// The database and API spelling: `suppression`, `optout`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suppression => "suppression",
            Self::OptOut => "optout",
        }
    }
}

/// One number on a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListEntry {
    /// E.164 with `+`, as messages store their destination.
    pub number: String,
    /// Reason code (`recycled_number`, `operator`, `stop_keyword`, …).
    pub reason: String,
    /// Who put it there: an API key name, or `mo` for a stop keyword.
    pub added_by: String,
    /// When.
    pub added_at: Millis,
}

/// What the lists say about one number ([`crate::Store::list_hits`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListHits {
    /// The suppression reason code, when the number is suppressed.
    pub suppressed: Option<String>,
    /// Whether the number opted out.
    pub opted_out: bool,
}

/// The pre-send check's verdict on a claimed message that must not go out now
/// ([`crate::Store::decide_before_send`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeforeSend {
    /// Never send it: the number was suppressed or opted out after the message was queued.
    Reject {
        /// The message.
        message: MessageId,
        /// Reason code (`suppressed(recycled_number)`, `opted_out`, …).
        reason: String,
    },
    /// Not now: it is due inside its class's quiet hours (it waited in the queue too long).
    Hold {
        /// The message.
        message: MessageId,
        /// Release time.
        until: Millis,
        /// Why.
        reason: String,
    },
}

/// A message moved to another carrier after a "not my subscriber" answer
/// ([`crate::Store::reroute`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reroute {
    /// The message (it must be `submitting` and never re-routed before).
    pub message: MessageId,
    /// The carrier that refused the number.
    pub from_carrier: String,
    /// The carrier to try next.
    pub to_carrier: String,
    /// Segments under the new carrier's profile.
    pub segments: u32,
    /// Billable count under the new carrier's rule.
    pub billable: u32,
    /// The command_status the first carrier answered.
    pub status: u32,
    /// When.
    pub at: Millis,
}

/// A batch's id.
pub type BatchId = i64;

/// Where a CSV batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    /// Created or edited; not yet submitted.
    Draft,
    /// Submitted; waits for a second operator's approval.
    PendingApproval,
    /// Its messages are queued (approved, or its class needs no approval).
    Running,
    /// Its waiting messages are held until it is resumed.
    Paused,
    /// Running, and none of its messages waits any more.
    Done,
    /// Cancelled; messages not yet sent were cancelled.
    Cancelled,
}

impl BatchStatus {
    /// The API/database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::PendingApproval => "pending_approval",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Done => "done",
            Self::Cancelled => "cancelled",
        }
    }

    /// Parses [`BatchStatus::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Draft,
            Self::PendingApproval,
            Self::Running,
            Self::Paused,
            Self::Done,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// One CSV row of a batch, checked and rendered. Valid when `errors` is empty; then `to`,
/// `text` and `carrier` are set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchRow {
    /// 1-based line in the uploaded file.
    pub line: u32,
    /// Recipient, E.164.
    pub to: Option<String>,
    /// Rendered text.
    pub text: Option<String>,
    /// Routed carrier.
    pub carrier: Option<String>,
    /// Segments under that carrier's profile.
    pub segments: u32,
    /// Billable count under that carrier's rule.
    pub billable: u32,
    /// Every problem found in the row.
    pub errors: Vec<String>,
}

/// A batch as uploaded (or edited): its settings and its checked rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBatch {
    /// Operator's name for it.
    pub name: String,
    /// Message class of every message.
    pub class: String,
    /// Sender id.
    pub from: String,
    /// The template text.
    pub template: String,
    /// CSV column holding the number.
    pub number_column: String,
    /// Not sent before.
    pub send_at: Option<Millis>,
    /// Expires instead of going out after.
    pub deadline: Option<Millis>,
    /// The rows, in file order.
    pub rows: Vec<BatchRow>,
}

/// A batch with its workflow record and its messages' progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchView {
    /// Id.
    pub id: BatchId,
    /// Name.
    pub name: String,
    /// Class.
    pub class: String,
    /// Sender id.
    pub from: String,
    /// Template text.
    pub template: String,
    /// Number column.
    pub number_column: String,
    /// Not sent before.
    pub send_at: Option<Millis>,
    /// Deadline.
    pub deadline: Option<Millis>,
    /// Status ([`BatchStatus::Done`] is derived: running with nothing waiting).
    pub status: BatchStatus,
    /// Rows in the file.
    pub rows_total: u64,
    /// Rows without errors.
    pub rows_valid: u64,
    /// The maker.
    pub created_by: String,
    /// When it was created.
    pub created_at: Millis,
    /// Who last edited it (a maker too: may not approve it).
    pub edited_by: Option<String>,
    /// When.
    pub edited_at: Option<Millis>,
    /// Who submitted it.
    pub submitted_by: Option<String>,
    /// When.
    pub submitted_at: Option<Millis>,
    /// The checker.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<Millis>,
    /// Who last rejected it.
    pub rejected_by: Option<String>,
    /// When.
    pub rejected_at: Option<Millis>,
    /// Why.
    pub reject_reason: Option<String>,
    /// Who cancelled it.
    pub cancelled_by: Option<String>,
    /// When.
    pub cancelled_at: Option<Millis>,
    /// Last change.
    pub updated_at: Millis,
    /// 1 when created, bumped by every edit: what a reviewer saw.
    pub revision: u64,
    /// Its messages by status.
    pub messages: Vec<(MessageStatus, u64)>,
}

/// A workflow step on a batch ([`crate::Store::batch_action`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAction {
    /// Draft → pending approval, or straight to running (these messages queued) when the
    /// class needs no approval.
    Submit {
        /// Whether a second operator must approve.
        requires_approval: bool,
        /// The messages to queue when no approval is needed.
        messages: Vec<NewMessage>,
        /// The revision `messages` were built from; [`BatchOutcome::Changed`] if it is not
        /// the batch's revision any more.
        revision: u64,
    },
    /// Pending approval → running, queuing `messages` in the same transaction. Refused
    /// ([`BatchOutcome::SameOperator`]) when the approver created or last edited it.
    Approve {
        /// The messages.
        messages: Vec<NewMessage>,
        /// The revision `messages` were built from (and the approver reviewed);
        /// [`BatchOutcome::Changed`] if it is not the batch's revision any more.
        revision: u64,
    },
    /// Pending approval → draft.
    Reject {
        /// Why, for the maker.
        reason: Option<String>,
    },
    /// Draft or pending approval → draft, with new settings and rows.
    Edit(NewBatch),
    /// Running → paused: its waiting messages are held until resumed.
    Pause,
    /// Paused → running.
    Resume,
    /// Anything but done or cancelled → cancelled; waiting messages are cancelled.
    Cancel,
}

impl BatchAction {
    /// The action's name (`submit`, `approve`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Submit { .. } => "submit",
            Self::Approve { .. } => "approve",
            Self::Reject { .. } => "reject",
            Self::Edit(_) => "edit",
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Cancel => "cancel",
        }
    }
}

/// What [`crate::Store::batch_action`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Done; the batch now has this status.
    Applied(BatchStatus),
    /// No such batch.
    NotFound,
    /// Not allowed in this status.
    Conflict(BatchStatus),
    /// The approver is the batch's maker (creator or last editor).
    SameOperator,
    /// The batch was edited since the revision the step was prepared from: read it again.
    Changed {
        /// The batch's revision now.
        revision: u64,
    },
}

/// Totals of a batch's valid rows for one carrier (preview).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CarrierTotal {
    /// Carrier.
    pub carrier: String,
    /// Messages.
    pub messages: u64,
    /// Segments.
    pub segments: u64,
    /// Billable segments if every message is delivered.
    pub billable: u64,
}

/// One line of the billing report: messages created in the period, per carrier and class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BillingRow {
    /// Carrier (the one that finally carried it, after any re-route).
    pub carrier: String,
    /// Class.
    pub class: String,
    /// Messages, whatever their status.
    pub messages: u64,
    /// Segments the SMSC accepted (acked submits).
    pub segments_submitted: u64,
    /// Billable segments of delivered messages only (success billing).
    pub billable_segments: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages undeliverable.
    pub undeliverable: u64,
    /// Messages expired before sending.
    pub expired: u64,
    /// Messages the SMSC refused.
    pub failed: u64,
    /// Messages refused by policy.
    pub rejected: u64,
}

/// One recorded step in a message's life (held, re-routed, rejected before sending, paused,
/// resumed). Submits, receipts and the batch workflow are read from their own records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// When.
    pub at: Millis,
    /// `held`, `rejected`, `rerouted`, `rejected_before_send`, `paused`, `resumed`.
    pub kind: String,
    /// Who, when a person did it.
    pub actor: Option<String>,
    /// Details, a JSON object as text.
    pub detail: Option<String>,
}
