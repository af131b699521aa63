//! Roles, bind styles, session states and the allowed-PDU matrix (smpp34.md §3, §8.1; spec
//! §2.2 and Table 2-1).

use smpp_codec::{CommandId, CommandStatus};

/// Which end of the bind this session plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The application side: binds, submits, receives deliver_sm.
    Esme,
    /// The message centre side: accepts binds, answers submits, sends deliver_sm.
    Smsc,
}

impl Role {
    /// The other end.
    pub const fn peer(self) -> Role {
        match self {
            Role::Esme => Role::Smsc,
            Role::Smsc => Role::Esme,
        }
    }
}

/// The three bind styles (smpp34.md §4, "Session PDUs").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BindKind {
    /// bind_transmitter: the ESME submits.
    Transmitter,
    /// bind_receiver: the ESME receives deliver_sm / data_sm.
    Receiver,
    /// bind_transceiver: both.
    Transceiver,
}

impl BindKind {
    /// The bind request's command_id.
    pub const fn command_id(self) -> CommandId {
        match self {
            BindKind::Transmitter => CommandId::BIND_TRANSMITTER,
            BindKind::Receiver => CommandId::BIND_RECEIVER,
            BindKind::Transceiver => CommandId::BIND_TRANSCEIVER,
        }
    }

    /// The bind response's command_id.
    pub const fn response_id(self) -> CommandId {
        match self {
            BindKind::Transmitter => CommandId::BIND_TRANSMITTER_RESP,
            BindKind::Receiver => CommandId::BIND_RECEIVER_RESP,
            BindKind::Transceiver => CommandId::BIND_TRANSCEIVER_RESP,
        }
    }

    /// The bind request for `id`, or `None` when `id` is not a bind request.
    pub const fn from_command_id(id: CommandId) -> Option<BindKind> {
        match id {
            CommandId::BIND_TRANSMITTER => Some(BindKind::Transmitter),
            CommandId::BIND_RECEIVER => Some(BindKind::Receiver),
            CommandId::BIND_TRANSCEIVER => Some(BindKind::Transceiver),
            _ => None,
        }
    }

    /// The state a successful bind of this kind leads to.
    pub const fn bound_state(self) -> State {
        match self {
            BindKind::Transmitter => State::BoundTx,
            BindKind::Receiver => State::BoundRx,
            BindKind::Transceiver => State::BoundTrx,
        }
    }

    /// ESME→SMSC message traffic (submit_sm and friends) is allowed.
    const fn transmits(self) -> bool {
        matches!(self, BindKind::Transmitter | BindKind::Transceiver)
    }

    /// SMSC→ESME message traffic (deliver_sm, alert_notification) is allowed.
    const fn receives(self) -> bool {
        matches!(self, BindKind::Receiver | BindKind::Transceiver)
    }
}

/// Session state (smpp34.md §8.1), as either role sees it.
///
/// ```text
///            bind ok                       unbind() / peer unbind
///   Open ──────────────▶ BoundTx|Rx|Trx ──────────────────────────▶ Unbinding ──▶ Closed
///    │ ▲  bind refused                                   (drain, unbind, unbind_resp)
///    │ └──────┘
///    └──────────── timers, framing loss, transport closed, close() ──────────────▶ Closed
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Connected, not bound (a bind may be in flight).
    Open,
    /// bind_transmitter accepted.
    BoundTx,
    /// bind_receiver accepted.
    BoundRx,
    /// bind_transceiver accepted.
    BoundTrx,
    /// [`crate::Session::unbind`] was called: pending requests drain, then unbind is sent and
    /// its unbind_resp awaited. No new requests are accepted.
    Unbinding,
    /// Finished. Nothing is sent or received any more.
    Closed,
}

impl State {
    /// BOUND_TX, BOUND_RX or BOUND_TRX.
    pub const fn is_bound(self) -> bool {
        matches!(self, State::BoundTx | State::BoundRx | State::BoundTrx)
    }

    /// The bind style of a bound state.
    pub const fn bind_kind(self) -> Option<BindKind> {
        match self {
            State::BoundTx => Some(BindKind::Transmitter),
            State::BoundRx => Some(BindKind::Receiver),
            State::BoundTrx => Some(BindKind::Transceiver),
            _ => None,
        }
    }
}

/// Whether `sender` may send request `command` on a session that is `bound` (`None`: OPEN).
///
/// This is smpp34.md §8.1's allowed-PDU matrix, the one place that decides "not allowed in
/// this state"; it is used both for what the peer sends us and for what our caller asks us to
/// send. `Err` carries the status the receiver answers with: ESME_RALYBND for a bind on a
/// bound session, ESME_RINVBNDSTS for everything else (smpp34.md §8.1, §8.3).
pub(crate) fn allowed(
    command: CommandId,
    sender: Role,
    bound: Option<BindKind>,
) -> Result<(), CommandStatus> {
    use CommandId as C;
    let esme = sender == Role::Esme;
    let ok = match command {
        C::BIND_TRANSMITTER | C::BIND_RECEIVER | C::BIND_TRANSCEIVER => {
            // §8.1: "A second bind on a bound session → ESME_RALYBND."
            if esme && bound.is_some() {
                return Err(CommandStatus::ESME_RALYBND);
            }
            esme
        }
        // OPEN only; sent by an SMSC that dialled the ESME.
        C::OUTBIND => !esme && bound.is_none(),
        // Table 2-1 omits TRX for replace_sm; smpp34.md §3 says treat TRX as allowed.
        C::SUBMIT_SM | C::SUBMIT_MULTI | C::QUERY_SM | C::CANCEL_SM | C::REPLACE_SM => {
            esme && bound.is_some_and(BindKind::transmits)
        }
        C::DELIVER_SM | C::ALERT_NOTIFICATION => !esme && bound.is_some_and(BindKind::receives),
        // ESME→SMSC in TX/TRX, SMSC→ESME in RX/TRX.
        C::DATA_SM => bound.is_some_and(|k| if esme { k.transmits() } else { k.receives() }),
        // Bound states; many SMSCs also answer it in OPEN and v5.0 allows it (§3, §8.1).
        C::ENQUIRE_LINK => true,
        C::UNBIND => bound.is_some(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(CommandStatus::ESME_RINVBNDSTS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TX: Option<BindKind> = Some(BindKind::Transmitter);
    const RX: Option<BindKind> = Some(BindKind::Receiver);
    const TRX: Option<BindKind> = Some(BindKind::Transceiver);

    #[test]
    fn submit_is_allowed_from_the_esme_on_tx_and_trx_only() {
        for (bound, ok) in [(None, false), (TX, true), (RX, false), (TRX, true)] {
            assert_eq!(allowed(CommandId::SUBMIT_SM, Role::Esme, bound).is_ok(), ok, "{bound:?}");
        }
        assert_eq!(
            allowed(CommandId::SUBMIT_SM, Role::Smsc, TRX),
            Err(CommandStatus::ESME_RINVBNDSTS)
        );
    }

    #[test]
    fn data_sm_direction_depends_on_the_bind() {
        assert!(allowed(CommandId::DATA_SM, Role::Esme, TX).is_ok());
        assert!(allowed(CommandId::DATA_SM, Role::Esme, RX).is_err());
        assert!(allowed(CommandId::DATA_SM, Role::Smsc, RX).is_ok());
        assert!(allowed(CommandId::DATA_SM, Role::Smsc, TX).is_err());
        assert!(allowed(CommandId::DATA_SM, Role::Smsc, TRX).is_ok());
        assert!(allowed(CommandId::DATA_SM, Role::Esme, None).is_err());
    }

    #[test]
    fn second_bind_is_already_bound() {
        assert_eq!(
            allowed(CommandId::BIND_TRANSCEIVER, Role::Esme, RX),
            Err(CommandStatus::ESME_RALYBND)
        );
        assert!(allowed(CommandId::BIND_TRANSCEIVER, Role::Esme, None).is_ok());
        assert_eq!(
            allowed(CommandId::BIND_TRANSCEIVER, Role::Smsc, None),
            Err(CommandStatus::ESME_RINVBNDSTS)
        );
    }

    #[test]
    fn enquire_link_is_tolerated_in_open_and_unbind_is_not() {
        assert!(allowed(CommandId::ENQUIRE_LINK, Role::Smsc, None).is_ok());
        assert!(allowed(CommandId::UNBIND, Role::Esme, None).is_err());
        assert!(allowed(CommandId::UNBIND, Role::Smsc, RX).is_ok());
    }

    #[test]
    fn deliver_and_outbind_come_from_the_smsc() {
        assert!(allowed(CommandId::DELIVER_SM, Role::Smsc, RX).is_ok());
        assert!(allowed(CommandId::DELIVER_SM, Role::Smsc, TX).is_err());
        assert!(allowed(CommandId::DELIVER_SM, Role::Esme, TRX).is_err());
        assert!(allowed(CommandId::OUTBIND, Role::Smsc, None).is_ok());
        assert!(allowed(CommandId::OUTBIND, Role::Smsc, TRX).is_err());
        assert!(allowed(CommandId::OUTBIND, Role::Esme, None).is_err());
    }

    #[test]
    fn unknown_commands_are_never_allowed() {
        assert!(allowed(CommandId(0x0001_0200), Role::Esme, TRX).is_err());
    }
}
