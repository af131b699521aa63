//! The client's error: opaque, with predicates (the tokio-postgres / h2 style).

use std::fmt;

use smpp_codec::CommandStatus;

/// What went wrong with a request or a bind.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The SMSC answered with an error status (not a throttling one: those are retried).
    Status(CommandStatus),
    /// The SMSC answered with generic_nack.
    GenericNack(CommandStatus),
    /// No response within the response timeout. The SMSC may still have accepted it.
    Timeout,
    /// The connection closed before the response came. The SMSC may have accepted it: the
    /// outcome is unknown, and resending may duplicate the message (smpp34.md §8.5).
    ConnectionLost,
    /// The response could not be decoded; whether the SMSC acted on the request is unknown.
    MalformedResponse,
    /// The client was shut down (unbind or drop) before the request was sent.
    Closed,
    /// The SMSC refused the bind.
    BindRefused(CommandStatus),
    /// The request is not allowed on this bind (e.g. submit on a receiver).
    NotAllowed,
    /// Network error.
    Io(std::io::ErrorKind),
    /// TLS setup or handshake error.
    Tls,
    /// Bad configuration (the message names the setting).
    Config,
}

/// An error from the ESME client.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    detail: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self { kind, detail: detail.into() }
    }

    pub(crate) fn config(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, detail)
    }

    /// The kind of failure.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The SMSC's status, when it answered with one.
    pub fn status(&self) -> Option<CommandStatus> {
        match self.kind {
            ErrorKind::Status(s) | ErrorKind::GenericNack(s) | ErrorKind::BindRefused(s) => Some(s),
            _ => None,
        }
    }

    /// True when no response came in time.
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    /// True when the SMSC may or may not have accepted the request: resending it could
    /// deliver the message twice. The caller decides (an OTP may be resent, a dunning
    /// reminder should not be).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Timeout | ErrorKind::ConnectionLost | ErrorKind::MalformedResponse
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Status(s) => write!(f, "SMSC answered {s}")?,
            ErrorKind::GenericNack(s) => write!(f, "SMSC answered generic_nack {s}")?,
            ErrorKind::Timeout => f.write_str("no response in time (outcome unknown)")?,
            ErrorKind::ConnectionLost => {
                f.write_str("connection lost before the response (outcome unknown)")?
            }
            ErrorKind::MalformedResponse => f.write_str("malformed response (outcome unknown)")?,
            ErrorKind::Closed => f.write_str("client closed")?,
            ErrorKind::BindRefused(s) => write!(f, "bind refused: {s}")?,
            ErrorKind::NotAllowed => f.write_str("not allowed on this bind")?,
            ErrorKind::Io(k) => write!(f, "network error: {k}")?,
            ErrorKind::Tls => f.write_str("TLS error")?,
            ErrorKind::Config => f.write_str("configuration error")?,
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io(e.kind()), e.to_string())
    }
}
