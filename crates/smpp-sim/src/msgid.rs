//! message_id formats seen in the wild (smpp34.md §7.8): decimal, hex, upper-case hex,
//! zero-padded decimal, UUID.
//!
//! Every id is a number from one counter per carrier, rendered in the carrier's format, so the
//! receipt text can render the *same* number in another base (smpp34.md §9.3: text
//! `id:0059113978`, TLV `38601fa`).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;

/// How a carrier writes message ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageIdFormat {
    /// `59113978`
    Decimal,
    /// `38601fa`
    Hex,
    /// `38601FA`
    #[serde(alias = "HEX", alias = "upper_hex")]
    HexUpper,
    /// `0059113978` (width from `message_id_width`)
    #[serde(alias = "zero_padded")]
    Padded,
    /// `3f2a9c1e-0b7d-4e21-9a6c-0000038601fa`: random but fixed per carrier, with the number in
    /// the last group.
    Uuid,
}

impl MessageIdFormat {
    /// Renders `n`. `width` is used by [`MessageIdFormat::Padded`]; `salt` by
    /// [`MessageIdFormat::Uuid`].
    pub fn render(self, n: u64, width: usize, salt: u64) -> String {
        match self {
            Self::Decimal => n.to_string(),
            Self::Hex => format!("{n:x}"),
            Self::HexUpper => format!("{n:X}"),
            Self::Padded => format!("{n:0width$}"),
            Self::Uuid => format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                (salt >> 32) as u32,
                (salt >> 16) as u16,
                (salt as u16) & 0x0FFF,
                0x8000 | ((n >> 48) as u16 & 0x3FFF),
                n & 0xFFFF_FFFF_FFFF
            ),
        }
    }
}

/// The per-carrier id counter with its formats.
#[derive(Debug)]
pub(crate) struct IdGen {
    next: AtomicU64,
    resp: MessageIdFormat,
    text: MessageIdFormat,
    width: usize,
    salt: u64,
}

/// One message's id as the submit_sm_resp / receipted_message_id show it, and as the receipt
/// text shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MessageId {
    pub(crate) resp: String,
    pub(crate) text: String,
}

impl IdGen {
    pub(crate) fn new(
        start: u64,
        resp: MessageIdFormat,
        text: Option<MessageIdFormat>,
        width: usize,
    ) -> Self {
        Self {
            next: AtomicU64::new(start),
            resp,
            text: text.unwrap_or(resp),
            width,
            salt: fastrand::u64(..),
        }
    }

    pub(crate) fn next(&self) -> MessageId {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        MessageId {
            resp: self.resp.render(n, self.width, self.salt),
            text: self.text.render(n, self.width, self.salt),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_number_renders_in_every_format() {
        let n = 59_113_978;
        assert_eq!(MessageIdFormat::Decimal.render(n, 10, 0), "59113978");
        assert_eq!(MessageIdFormat::Hex.render(n, 10, 0), "38601fa");
        assert_eq!(MessageIdFormat::HexUpper.render(n, 10, 0), "38601FA");
        assert_eq!(MessageIdFormat::Padded.render(n, 10, 0), "0059113978");
        let u = MessageIdFormat::Uuid.render(n, 10, 0x1234_5678_9abc_def0);
        assert_eq!(u, "12345678-9abc-4ef0-8000-0000038601fa");
    }

    #[test]
    fn receipt_text_may_use_another_base_than_the_resp() {
        let g = IdGen::new(0x38601fa, MessageIdFormat::Hex, Some(MessageIdFormat::Padded), 10);
        assert_eq!(g.next(), MessageId { resp: "38601fa".into(), text: "0059113978".into() });
        assert_eq!(g.next().resp, "38601fb");
    }
}
