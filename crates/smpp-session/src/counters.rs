//! Read-only statistics the session keeps as it runs.

use smpp_codec::CommandId;

/// Every command_id the spec defines (smpp34.md §3), in table order.
const IDS: [CommandId; 27] = [
    CommandId::BIND_RECEIVER,
    CommandId::BIND_RECEIVER_RESP,
    CommandId::BIND_TRANSMITTER,
    CommandId::BIND_TRANSMITTER_RESP,
    CommandId::QUERY_SM,
    CommandId::QUERY_SM_RESP,
    CommandId::SUBMIT_SM,
    CommandId::SUBMIT_SM_RESP,
    CommandId::DELIVER_SM,
    CommandId::DELIVER_SM_RESP,
    CommandId::UNBIND,
    CommandId::UNBIND_RESP,
    CommandId::REPLACE_SM,
    CommandId::REPLACE_SM_RESP,
    CommandId::CANCEL_SM,
    CommandId::CANCEL_SM_RESP,
    CommandId::BIND_TRANSCEIVER,
    CommandId::BIND_TRANSCEIVER_RESP,
    CommandId::OUTBIND,
    CommandId::ENQUIRE_LINK,
    CommandId::ENQUIRE_LINK_RESP,
    CommandId::SUBMIT_MULTI,
    CommandId::SUBMIT_MULTI_RESP,
    CommandId::ALERT_NOTIFICATION,
    CommandId::DATA_SM,
    CommandId::DATA_SM_RESP,
    CommandId::GENERIC_NACK,
];

/// PDUs counted per command_id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandCounts {
    /// One slot per entry of `IDS`, then one for anything else.
    counts: [u64; IDS.len() + 1],
}

impl CommandCounts {
    fn slot(id: CommandId) -> usize {
        // Request ids are small; a response shares its request's low bits and follows it in
        // `IDS`. The final comparison sends every undefined id (0x8000000B, 0x80000102, ...)
        // to the "other" slot.
        let base = match id.0 & 0x7FFF_FFFF {
            low @ 0x01..=0x09 => (low as usize - 1) * 2,
            0x0B => 18,
            0x15 => 19,
            0x21 => 21,
            0x102 => 23,
            0x103 => 24,
            0x00 => 25, // generic_nack is 0x80000000, so lands on 26
            _ => return IDS.len(),
        };
        let slot = base + usize::from(id.is_response());
        if IDS.get(slot) == Some(&id) {
            slot
        } else {
            IDS.len()
        }
    }

    pub(crate) fn add(&mut self, id: CommandId) {
        self.counts[Self::slot(id)] += 1;
    }

    /// How many PDUs with this command_id. Ids the spec does not define are counted together
    /// under [`CommandCounts::other`].
    pub fn get(&self, id: CommandId) -> u64 {
        let slot = Self::slot(id);
        if slot == IDS.len() {
            0
        } else {
            self.counts[slot]
        }
    }

    /// PDUs whose command_id the spec does not define.
    pub fn other(&self) -> u64 {
        self.counts[IDS.len()]
    }

    /// All PDUs.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The non-zero counts of defined command_ids.
    pub fn iter(&self) -> impl Iterator<Item = (CommandId, u64)> + '_ {
        IDS.iter().zip(self.counts.iter()).filter(|(_, &n)| n > 0).map(|(&id, &n)| (id, n))
    }
}

/// Statistics of one session, from [`crate::Session::counters`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// PDUs we put on the wire, including the session's own answers.
    pub sent: CommandCounts,
    /// Well-formed PDUs received.
    pub received: CommandCounts,
    /// The most requests that were ever awaiting their response at once.
    pub window_high_water: usize,
    /// Requests failed by the response timer.
    pub response_timeouts: u64,
    /// enquire_links that went unanswered (each closes the session).
    pub enquire_link_timeouts: u64,
    /// Frames that could not be decoded.
    pub decode_errors: u64,
    /// Peer requests the session refused as not allowed in the state (RINVBNDSTS, RALYBND).
    pub refused: u64,
    /// Responses that matched no pending request.
    pub unexpected_responses: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_defined_id_has_its_own_slot() {
        for (i, &id) in IDS.iter().enumerate() {
            assert_eq!(CommandCounts::slot(id), i, "{id}");
        }
        assert_eq!(CommandCounts::slot(CommandId(0x8000_000B)), IDS.len());
        assert_eq!(CommandCounts::slot(CommandId(0x8000_0102)), IDS.len());
        assert_eq!(CommandCounts::slot(CommandId(0x0000_000A)), IDS.len());
        assert_eq!(CommandCounts::slot(CommandId(0)), IDS.len());
    }

    #[test]
    fn counts_add_up() {
        let mut c = CommandCounts::default();
        c.add(CommandId::SUBMIT_SM);
        c.add(CommandId::SUBMIT_SM);
        c.add(CommandId(0x0001_0200));
        assert_eq!(c.get(CommandId::SUBMIT_SM), 2);
        assert_eq!(c.other(), 1);
        assert_eq!(c.total(), 3);
        assert_eq!(c.iter().collect::<Vec<_>>(), [(CommandId::SUBMIT_SM, 2)]);
    }
}
