//! Splitting a byte stream into PDUs by command_length (smpp34.md §2, "Framing").

use bytes::{Bytes, BytesMut};

use crate::error::{DecodeError, Problem};
use crate::header::{Header, HEADER_LEN};

/// Cuts whole PDUs off the front of a read buffer.
///
/// command_length is checked against `16..=max_command_length` before anything is trusted;
/// the framer never allocates on the strength of a length the peer claims.
///
/// ```
/// use bytes::BytesMut;
/// use smpp_codec::Framer;
///
/// let framer = Framer::default();
/// let mut buf = BytesMut::from(&[0, 0, 0, 16, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0][..]);
/// let frame = framer.next_frame(&mut buf).unwrap().unwrap(); // an enquire_link
/// assert_eq!(frame.len(), 16);
/// assert_eq!(framer.next_frame(&mut buf).unwrap(), None); // 2 octets: need more
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framer {
    max_command_length: u32,
}

impl Framer {
    /// Default maximum command_length: 70 KiB. The largest legal PDU is a submit with a full
    /// 65535-octet message_payload plus its mandatory fields (smpp34.md §2). Lower it to what
    /// your SMSC accepts to bound memory per connection more tightly.
    pub const DEFAULT_MAX_COMMAND_LENGTH: u32 = 70 * 1024;

    /// A framer accepting PDUs of 16 to `max_command_length` octets. Values below 16 are
    /// raised to 16.
    pub const fn new(max_command_length: u32) -> Self {
        let max = if max_command_length < HEADER_LEN as u32 {
            HEADER_LEN as u32
        } else {
            max_command_length
        };
        Self { max_command_length: max }
    }

    /// The configured maximum.
    pub const fn max_command_length(&self) -> u32 {
        self.max_command_length
    }

    /// Takes the next whole PDU off the front of `buf`.
    ///
    /// `Ok(None)`: not enough bytes yet; call again after reading more. `Ok(Some(frame))`:
    /// exactly command_length octets, ready for [`crate::Pdu::decode`]. `Err`: command_length
    /// is outside `16..=max`; framing is lost, send [`DecodeError::reply`] and close
    /// ([`crate::Then::CloseConnection`]). The buffer is left untouched on error.
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Option<Bytes>, DecodeError> {
        let Some(len) = Header::peek_length(buf) else {
            return Ok(None);
        };
        if len < HEADER_LEN as u32 || len > self.max_command_length {
            // Below 16, bytes 12..16 already belong to whatever follows: echo sequence 0.
            let header = if len < HEADER_LEN as u32 { None } else { Header::peek(buf) };
            return Err(DecodeError::new(
                header,
                Problem::CommandLength { length: len, max: self.max_command_length },
            ));
        }
        if buf.len() < len as usize {
            return Ok(None);
        }
        Ok(Some(buf.split_to(len as usize).freeze()))
    }
}

impl Default for Framer {
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_COMMAND_LENGTH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{CommandId, CommandStatus};
    use crate::error::Then;

    #[test]
    fn waits_for_the_whole_pdu() {
        let f = Framer::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 17, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 1][..]);
        assert_eq!(f.next_frame(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[0]);
        assert_eq!(f.next_frame(&mut buf).unwrap().unwrap().len(), 17);
        assert!(buf.is_empty());
    }

    #[test]
    fn length_below_sixteen_is_a_stream_error() {
        let f = Framer::default();
        let mut buf = BytesMut::from(&[0, 0, 0, 15, 0, 0, 0, 0x15, 0, 0, 0, 0, 0, 0, 0, 9][..]);
        let e = f.next_frame(&mut buf).unwrap_err();
        assert_eq!(e.then(), Then::CloseConnection);
        let r = e.reply().unwrap();
        assert_eq!(r.command_id, CommandId::GENERIC_NACK);
        assert_eq!(r.command_status, CommandStatus::ESME_RINVCMDLEN);
        assert_eq!(r.sequence_number, 0, "bytes 12..16 lie past a 15-octet PDU");
    }

    #[test]
    fn length_above_maximum_is_refused_before_the_bytes_arrive() {
        let f = Framer::new(1000);
        let mut buf = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0xFF][..]);
        let e = f.next_frame(&mut buf).unwrap_err();
        assert_eq!(e.then(), Then::CloseConnection);
        assert_eq!(e.reply().unwrap().sequence_number, 0);
        assert!(buf.capacity() < 1000);
    }
}
