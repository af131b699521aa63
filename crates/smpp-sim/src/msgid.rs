//! message_id formats seen in the wild (smpp34.md §7.8): decimal, hex, upper-case hex,
//! zero-padded decimal, UUID.
//!
//! Every id is a number from one counter per carrier, rendered in the carrier's format, so the
//! receipt text can render the *same* number in another base (smpp34.md §9.3: text
//! `id:0059113978`, TLV `38601fa`).

use std::fmt::Write as _;
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
        self.render_inline(n, width, salt).as_str().to_owned()
    }

    fn render_inline(self, n: u64, width: usize, salt: u64) -> IdText {
        let mut t = IdText { buf: [0; IdText::MAX], len: 0 };
        // By hand but for the UUID: `write!` cost more than the rest of a receipt's ids.
        match self {
            Self::Decimal => t.push_number::<10>(n, b"0123456789", 0),
            Self::Hex => t.push_number::<16>(n, b"0123456789abcdef", 0),
            Self::HexUpper => t.push_number::<16>(n, b"0123456789ABCDEF", 0),
            Self::Padded => t.push_number::<10>(n, b"0123456789", width),
            Self::Uuid => write!(
                t,
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                (salt >> 32) as u32,
                (salt >> 16) as u16,
                (salt as u16) & 0x0FFF,
                0x8000 | ((n >> 48) as u16 & 0x3FFF),
                n & 0xFFFF_FFFF_FFFF
            )
            .expect("a UUID has 36 characters"),
        }
        t
    }

    /// The number `id` may be a rendering of (checked by the caller).
    fn parse(self, id: &str) -> Option<u64> {
        match self {
            Self::Decimal | Self::Padded => id.parse().ok(),
            Self::Hex | Self::HexUpper => u64::from_str_radix(id, 16).ok(),
            Self::Uuid => {
                let mut groups = id.rsplit('-');
                let low = u64::from_str_radix(groups.next()?, 16).ok()?;
                let high = u64::from_str_radix(groups.next()?, 16).ok()? & 0x3FFF;
                Some(high << 48 | low)
            }
        }
    }
}

/// A rendered message id, kept on the stack: ids are rendered for every response and
/// receipt, and stored as their number.
#[derive(Clone)]
pub(crate) struct IdText {
    buf: [u8; IdText::MAX],
    len: usize,
}

impl IdText {
    /// message_id_width is at most 64; a UUID has 36 characters.
    pub(crate) const MAX: usize = 64;

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).expect("ids are ASCII")
    }

    /// The id without the UTF-8 check of [`IdText::as_str`], for the wire.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl IdText {
    /// Appends `n` in base `RADIX` (the length of `digits`), zero-padded to `width` (at most
    /// 64, validated). The radix is a constant so that `%` and `/` compile to multiplies and
    /// shifts: with it read from `digits`, the divisions of the two ids rendered per message
    /// were a visible part of the simulator's time.
    fn push_number<const RADIX: usize>(&mut self, n: u64, digits: &[u8; RADIX], width: usize) {
        let radix = RADIX as u64;
        let mut reversed = [0u8; 20];
        let mut len = 0;
        let mut rest = n;
        while len == 0 || rest > 0 {
            reversed[len] = digits[(rest % radix) as usize];
            rest /= radix;
            len += 1;
        }
        let pad = width.saturating_sub(len);
        self.buf[self.len..self.len + pad].fill(b'0');
        self.len += pad;
        for &d in reversed[..len].iter().rev() {
            self.buf[self.len] = d;
            self.len += 1;
        }
    }
}

impl std::fmt::Write for IdText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
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

/// One message's id: the counter's number, rendered by [`IdGen`] in the submit_sm_resp /
/// receipted_message_id format or in the receipt text's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct MessageId(pub(crate) u64);

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
        MessageId(self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as submit_sm_resp and receipted_message_id show it.
    pub(crate) fn resp(&self, id: MessageId) -> IdText {
        self.resp.render_inline(id.0, self.width, self.salt)
    }

    /// The id as the receipt text shows it.
    pub(crate) fn text(&self, id: MessageId) -> IdText {
        self.text.render_inline(id.0, self.width, self.salt)
    }

    /// The id in both formats, as a receipt shows it; rendered once when they are the same
    /// (the default).
    pub(crate) fn resp_and_text(&self, id: MessageId) -> (IdText, IdText) {
        let resp = self.resp(id);
        let text = if self.text == self.resp { resp.clone() } else { self.text(id) };
        (resp, text)
    }

    /// The message an id in the resp format names; `None` when no id renders as `id`.
    pub(crate) fn parse(&self, id: &str) -> Option<MessageId> {
        let n = MessageId(self.resp.parse(id)?);
        (self.resp(n).as_str() == id).then_some(n)
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
    fn numbers_render_as_format_does() {
        for n in [0, 1, 9, 10, 15, 16, 255, 59_113_978, u64::MAX / 3, u64::MAX] {
            for width in [1, 10, 20, 21, 64] {
                assert_eq!(MessageIdFormat::Decimal.render(n, width, 0), format!("{n}"));
                assert_eq!(MessageIdFormat::Hex.render(n, width, 0), format!("{n:x}"));
                assert_eq!(MessageIdFormat::HexUpper.render(n, width, 0), format!("{n:X}"));
                assert_eq!(MessageIdFormat::Padded.render(n, width, 0), format!("{n:0width$}"));
            }
        }
    }

    #[test]
    fn receipt_text_may_use_another_base_than_the_resp() {
        let g = IdGen::new(0x38601fa, MessageIdFormat::Hex, Some(MessageIdFormat::Padded), 10);
        let id = g.next();
        assert_eq!((g.resp(id).as_str(), g.text(id).as_str()), ("38601fa", "0059113978"));
        let (resp, text) = g.resp_and_text(id);
        assert_eq!((resp.as_str(), text.as_str()), ("38601fa", "0059113978"));
        let same = IdGen::new(7, MessageIdFormat::Padded, Some(MessageIdFormat::Padded), 4);
        let (resp, text) = same.resp_and_text(same.next());
        assert_eq!((resp.as_str(), text.as_str()), ("0007", "0007"));
        assert_eq!(g.resp(g.next()).as_str(), "38601fb");
    }

    #[test]
    fn an_id_parses_back_only_from_its_exact_rendering() {
        for format in [
            MessageIdFormat::Decimal,
            MessageIdFormat::Hex,
            MessageIdFormat::HexUpper,
            MessageIdFormat::Padded,
            MessageIdFormat::Uuid,
        ] {
            let g = IdGen::new(59_113_978, format, None, 10);
            let id = g.next();
            let text = g.resp(id);
            assert_eq!(g.parse(text.as_str()), Some(id), "{format:?}");
            for other in [
                "",
                "x",
                "+59113978",
                "059113978",
                "38601FA ",
                "00000000-0000-4000-8000-0000038601fa",
            ] {
                assert_eq!(g.parse(other), None, "{format:?} {other:?}");
            }
        }
        let g = IdGen::new(1, MessageIdFormat::Padded, None, 64);
        assert_eq!(g.resp(g.next()).as_str().len(), 64);
    }
}
