//! The 16-octet PDU header (smpp34.md §2).

use bytes::{BufMut, BytesMut};

use crate::codes::{CommandId, CommandStatus};

/// Size of the header; also the smallest legal command_length.
pub const HEADER_LEN: usize = 16;

/// The header as it was on the wire. `sequence_number` is kept raw: peers send 0 and values
/// with bit 31 set, and a response must echo whatever the request carried (smpp34.md §8.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    /// Total PDU size including the header.
    pub command_length: u32,
    /// Which PDU this is.
    pub command_id: CommandId,
    /// Result code; 0 in requests.
    pub command_status: CommandStatus,
    /// Chosen by the request's sender, echoed in the response.
    pub sequence_number: u32,
}

impl Header {
    /// Reads a header from the first 16 octets, or `None` when fewer are given.
    pub fn peek(bytes: &[u8]) -> Option<Header> {
        let h: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        Some(Header {
            command_length: word(0),
            command_id: CommandId(word(4)),
            command_status: CommandStatus(word(8)),
            sequence_number: word(12),
        })
    }

    /// Reads only command_length, or `None` when fewer than 4 octets are given.
    pub fn peek_length(bytes: &[u8]) -> Option<u32> {
        let b: [u8; 4] = bytes.get(..4)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.command_length);
        buf.put_u32(self.command_id.0);
        buf.put_u32(self.command_status.0);
        buf.put_u32(self.sequence_number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_reads_the_spec_example_header() {
        let h = Header::peek(&[0, 0, 0, 0x2F, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1]).unwrap();
        assert_eq!(h.command_length, 47);
        assert_eq!(h.command_id, CommandId::BIND_TRANSMITTER);
        assert_eq!(h.sequence_number, 1);
    }

    #[test]
    fn peek_needs_sixteen_octets() {
        assert_eq!(Header::peek(&[0; 15]), None);
        assert_eq!(Header::peek_length(&[0, 0, 0]), None);
    }
}
