//! Decode errors, each of which knows its answer on the wire (smpp34.md §5, §8.3).
//!
//! Two families, as in tokio-util's `Decoder` docs:
//! - **stream errors** ([`Then::CloseConnection`]): command_length is below 16 or above the
//!   configured maximum, so the frame boundary is lost and the connection must close;
//! - **item errors** ([`Then::Continue`]): the frame was delimited fine but its body is not;
//!   the session answers with [`DecodeError::reply`] and goes on with the next frame.

use crate::codes::{CommandId, CommandStatus};
use crate::header::Header;
use crate::tlv::Tag;

/// What the session does after a decode error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Framing is lost: send the reply (if any), then close the connection.
    CloseConnection,
    /// The frame was skipped: send the reply (if any) and read the next frame.
    Continue,
    /// Not an error on the wire: the buffer holds only part of a PDU.
    WaitForMoreBytes,
}

impl Then {
    /// The snake_case name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Then::CloseConnection => "close_connection",
            Then::Continue => "continue",
            Then::WaitForMoreBytes => "wait_for_more_bytes",
        }
    }
}

/// The PDU to send back for a malformed one: generic_nack or the request's own `_resp`, with
/// the status and the sequence_number to echo. Always header-only (error bodies are omitted,
/// smpp34.md §4 notes under submit_sm_resp and bind_*_resp).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reply {
    /// generic_nack or the request's response id.
    pub command_id: CommandId,
    /// The error status.
    pub command_status: CommandStatus,
    /// The offending PDU's sequence_number, or 0 when it could not be read.
    pub sequence_number: u32,
}

/// Coarse class of a decode error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are not a valid PDU.
    Invalid,
}

/// What exactly is wrong. The variant says who caused it: all of these are the peer's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The buffer ends before command_length octets: wait for more.
    Incomplete {
        /// Octets available.
        have: usize,
        /// Octets the PDU needs (at least 16 until command_length is known).
        need: usize,
    },
    /// command_length below 16 or above the configured maximum (smpp34.md §2).
    CommandLength {
        /// The command_length read (0 when fewer than 4 octets were there).
        length: u32,
        /// The configured maximum.
        max: u32,
    },
    /// More octets were given than command_length says (a single-PDU decode only).
    TrailingData {
        /// Extra octets.
        extra: usize,
    },
    /// command_id is reserved or unknown (smpp34.md §3).
    UnknownCommandId,
    /// The body ends before its mandatory fields do: a C-Octet String without its NUL, or a
    /// missing integer (smpp34.md §8.3: "the length is wrong for this PDU").
    Truncated {
        /// The field that was cut off.
        field: &'static str,
    },
    /// A mandatory field is present but invalid (too long, bad time, bad flag).
    Field {
        /// The spec's field name.
        field: &'static str,
        /// Why.
        reason: &'static str,
        /// The field's status (smpp34.md §5 field → status mapping).
        status: CommandStatus,
    },
    /// A C-Octet String longer than its field allows (the maximum excludes the NUL).
    FieldTooLong {
        /// The spec's field name.
        field: &'static str,
        /// Characters found before the NUL.
        len: usize,
        /// Most characters the field holds.
        max: usize,
        /// The field's status.
        status: CommandStatus,
    },
    /// The TLV area cannot be parsed: a length runs past the PDU, or 1-3 stray octets.
    TlvStream {
        /// Why.
        reason: &'static str,
    },
    /// A known TLV has a length its type does not allow (ESME_RINVPARLEN).
    TlvLength {
        /// The tag.
        tag: Tag,
        /// The length on the wire.
        len: u16,
    },
    /// Strict mode: a TLV the spec does not list for this PDU (ESME_ROPTPARNOTALLWD).
    TlvNotAllowed {
        /// The tag.
        tag: Tag,
    },
    /// Strict mode: something real peers do that the spec does not allow.
    Strict {
        /// What.
        reason: &'static str,
        /// Status to answer with.
        status: CommandStatus,
    },
}

/// A PDU that could not be decoded, with the header as far as it could be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DecodeError {
    header: Option<Header>,
    problem: Problem,
}

impl DecodeError {
    pub(crate) fn new(header: Option<Header>, problem: Problem) -> Self {
        Self { header, problem }
    }

    /// The header, when 16 octets were available.
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// The detailed problem.
    pub fn problem(&self) -> &Problem {
        &self.problem
    }

    /// Incomplete (wait for bytes) or invalid.
    pub fn kind(&self) -> ErrorKind {
        match self.problem {
            Problem::Incomplete { .. } => ErrorKind::Incomplete,
            _ => ErrorKind::Invalid,
        }
    }

    /// The status this error maps to (ESME_RINVCMDLEN, a field status, ...).
    pub fn command_status(&self) -> CommandStatus {
        match &self.problem {
            Problem::Incomplete { .. }
            | Problem::CommandLength { .. }
            | Problem::TrailingData { .. }
            | Problem::Truncated { .. } => CommandStatus::ESME_RINVCMDLEN,
            Problem::UnknownCommandId => CommandStatus::ESME_RINVCMDID,
            Problem::Field { status, .. }
            | Problem::FieldTooLong { status, .. }
            | Problem::Strict { status, .. } => *status,
            Problem::TlvStream { .. } => CommandStatus::ESME_RINVOPTPARSTREAM,
            Problem::TlvLength { .. } => CommandStatus::ESME_RINVPARLEN,
            Problem::TlvNotAllowed { .. } => CommandStatus::ESME_ROPTPARNOTALLWD,
        }
    }

    /// Whether the connection can go on (smpp34.md §8.3).
    pub fn then(&self) -> Then {
        match self.problem {
            Problem::Incomplete { .. } => Then::WaitForMoreBytes,
            Problem::CommandLength { .. } => Then::CloseConnection,
            _ => Then::Continue,
        }
    }

    /// The PDU to send back, or `None` when nothing may be sent: the input was incomplete, or
    /// the offending PDU is itself a response or generic_nack (never answered, §8.3).
    pub fn reply(&self) -> Option<Reply> {
        let sequence_number = self.header.map_or(0, |h| h.sequence_number);
        let nack = |command_status| {
            Some(Reply { command_id: CommandId::GENERIC_NACK, command_status, sequence_number })
        };
        let status = self.command_status();
        match &self.problem {
            Problem::Incomplete { .. } => None,
            Problem::CommandLength { .. } | Problem::UnknownCommandId => nack(status),
            _ => {
                let id = self.header?.command_id;
                if id.is_response() {
                    return None;
                }
                match (&self.problem, id.response_id()) {
                    // §8.3: a body shorter than its fields means the length is wrong for this
                    // PDU; answered with generic_nack like any other length error.
                    (Problem::Truncated { .. } | Problem::TrailingData { .. }, _) => nack(status),
                    (_, Some(resp)) => {
                        Some(Reply { command_id: resp, command_status: status, sequence_number })
                    }
                    // outbind and alert_notification have no response of their own.
                    (_, None) => nack(status),
                }
            }
        }
    }

    fn describe(&self) -> String {
        let pdu =
            self.header.map(|h| h.command_id.to_string()).unwrap_or_else(|| "pdu".to_string());
        match &self.problem {
            Problem::Incomplete { have, need } => {
                format!("incomplete PDU: have {have} octets, need {need}")
            }
            Problem::CommandLength { length, max } => {
                format!("command_length {length} is outside 16..={max}; framing is lost")
            }
            Problem::TrailingData { extra } => {
                format!("{pdu}: {extra} octets follow the command_length of the PDU")
            }
            Problem::UnknownCommandId => format!("unknown or reserved command_id {pdu}"),
            Problem::Truncated { field } => {
                format!("{pdu}.{field}: the body ends before this field does")
            }
            Problem::Field { field, reason, .. } => format!("{pdu}.{field}: {reason}"),
            Problem::FieldTooLong { field, len, max, .. } => {
                format!("{pdu}.{field}: {len} characters, at most {max} fit (plus the NUL)")
            }
            Problem::TlvStream { reason } => format!("{pdu} TLVs: {reason}"),
            Problem::TlvLength { tag, len } => {
                format!("{pdu} TLV {tag} ({:#06x}): length {len} is not valid for its type", tag.0)
            }
            Problem::TlvNotAllowed { tag } => {
                format!("{pdu} TLV {tag} ({:#06x}) is not allowed on this PDU (strict)", tag.0)
            }
            Problem::Strict { reason, .. } => format!("{pdu}: {reason} (strict)"),
        }
    }
}

/// The status a bad mandatory field maps to (smpp34.md §5, "Field → status mapping").
pub(crate) fn status_for_field(field: &str) -> CommandStatus {
    match field {
        "system_id" => CommandStatus::ESME_RINVSYSID,
        "password" => CommandStatus::ESME_RINVPASWD,
        "system_type" => CommandStatus::ESME_RINVSYSTYP,
        "service_type" => CommandStatus::ESME_RINVSERTYP,
        "source_addr" => CommandStatus::ESME_RINVSRCADR,
        "destination_addr" | "esme_addr" => CommandStatus::ESME_RINVDSTADR,
        "schedule_delivery_time" => CommandStatus::ESME_RINVSCHED,
        "validity_period" => CommandStatus::ESME_RINVEXPIRY,
        "message_id" => CommandStatus::ESME_RINVMSGID,
        "sm_length" | "short_message" => CommandStatus::ESME_RINVMSGLEN,
        "dl_name" => CommandStatus::ESME_RINVDLNAME,
        "number_of_dests" => CommandStatus::ESME_RINVNUMDESTS,
        "dest_flag" => CommandStatus::ESME_RINVDESTFLAG,
        "esm_class" => CommandStatus::ESME_RINVESMCLASS,
        "priority_flag" => CommandStatus::ESME_RINVPRTFLG,
        "registered_delivery" => CommandStatus::ESME_RINVREGDLVFLG,
        "replace_if_present_flag" => CommandStatus::ESME_RINVREPFLAG,
        "source_addr_ton" => CommandStatus::ESME_RINVSRCTON,
        "source_addr_npi" => CommandStatus::ESME_RINVSRCNPI,
        "dest_addr_ton" => CommandStatus::ESME_RINVDSTTON,
        "dest_addr_npi" => CommandStatus::ESME_RINVDSTNPI,
        "sm_default_msg_id" => CommandStatus::ESME_RINVDFTMSGID,
        // address_range has no status of its own; the bind as a whole fails.
        "address_range" => CommandStatus::ESME_RBINDFAIL,
        _ => CommandStatus::ESME_RSYSERR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(id: CommandId, seq: u32) -> Option<Header> {
        Some(Header {
            command_length: 16,
            command_id: id,
            command_status: CommandStatus::ESME_ROK,
            sequence_number: seq,
        })
    }

    #[test]
    fn field_error_on_request_is_answered_with_its_own_resp() {
        let e = DecodeError::new(
            header(CommandId::SUBMIT_SM, 7),
            Problem::Field {
                field: "destination_addr",
                reason: "too long",
                status: status_for_field("destination_addr"),
            },
        );
        let r = e.reply().unwrap();
        assert_eq!(r.command_id, CommandId::SUBMIT_SM_RESP);
        assert_eq!(r.command_status, CommandStatus::ESME_RINVDSTADR);
        assert_eq!(r.sequence_number, 7);
        assert_eq!(e.then(), Then::Continue);
    }

    #[test]
    fn errors_in_responses_are_never_answered() {
        let e = DecodeError::new(
            header(CommandId::SUBMIT_SM_RESP, 7),
            Problem::Truncated { field: "message_id" },
        );
        assert_eq!(e.reply(), None);
        assert_eq!(e.then(), Then::Continue);
    }

    #[test]
    fn bad_length_closes_with_generic_nack() {
        let e = DecodeError::new(None, Problem::CommandLength { length: 101, max: 100 });
        let r = e.reply().unwrap();
        assert_eq!(r.command_id, CommandId::GENERIC_NACK);
        assert_eq!(r.command_status, CommandStatus::ESME_RINVCMDLEN);
        assert_eq!(r.sequence_number, 0);
        assert_eq!(e.then(), Then::CloseConnection);
    }

    #[test]
    fn alert_notification_field_error_uses_generic_nack() {
        let e = DecodeError::new(
            header(CommandId::ALERT_NOTIFICATION, 3),
            Problem::Field {
                field: "esme_addr",
                reason: "x",
                status: CommandStatus::ESME_RINVDSTADR,
            },
        );
        assert_eq!(e.reply().unwrap().command_id, CommandId::GENERIC_NACK);
    }
}
