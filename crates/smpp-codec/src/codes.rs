//! Code points: `command_id`, `command_status`, TON, NPI.
//!
//! Each is a newtype over its wire integer with named consts, so a value we do not know still
//! decodes, re-encodes unchanged and prints as hex (the `enum_builder!` idea from rustls).

/// Defines a newtype over an integer with named constants and a `name()` lookup.
macro_rules! code_points {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident($int:ty) {
            $( $(#[$cmeta:meta])* $const:ident = $value:expr => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis struct $name(pub $int);

        impl $name {
            $( $(#[$cmeta])* pub const $const: Self = Self($value); )*

            /// The spec's name for this value, or `None` for a value the spec does not define.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($text), )*
                    _ => None,
                }
            }

            /// Looks a value up by the spec's name.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $( $text => Some(Self::$const), )*
                    _ => None,
                }
            }

            /// The raw wire value.
            pub const fn get(self) -> $int {
                self.0
            }
        }

        impl From<$int> for $name {
            fn from(v: $int) -> Self {
                Self(v)
            }
        }

        impl From<$name> for $int {
            fn from(v: $name) -> Self {
                v.0
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{}({:#x})", stringify!($name), self.0),
                }
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, "{:#x}", self.0),
                }
            }
        }
    };
}

pub(crate) use code_points;

code_points! {
    /// `command_id` (smpp34.md §3). A response id is its request id with bit 31 set.
    pub struct CommandId(u32) {
        /// bind_receiver
        BIND_RECEIVER = 0x0000_0001 => "bind_receiver",
        /// bind_receiver_resp
        BIND_RECEIVER_RESP = 0x8000_0001 => "bind_receiver_resp",
        /// bind_transmitter
        BIND_TRANSMITTER = 0x0000_0002 => "bind_transmitter",
        /// bind_transmitter_resp
        BIND_TRANSMITTER_RESP = 0x8000_0002 => "bind_transmitter_resp",
        /// query_sm
        QUERY_SM = 0x0000_0003 => "query_sm",
        /// query_sm_resp
        QUERY_SM_RESP = 0x8000_0003 => "query_sm_resp",
        /// submit_sm
        SUBMIT_SM = 0x0000_0004 => "submit_sm",
        /// submit_sm_resp
        SUBMIT_SM_RESP = 0x8000_0004 => "submit_sm_resp",
        /// deliver_sm
        DELIVER_SM = 0x0000_0005 => "deliver_sm",
        /// deliver_sm_resp
        DELIVER_SM_RESP = 0x8000_0005 => "deliver_sm_resp",
        /// unbind
        UNBIND = 0x0000_0006 => "unbind",
        /// unbind_resp
        UNBIND_RESP = 0x8000_0006 => "unbind_resp",
        /// replace_sm
        REPLACE_SM = 0x0000_0007 => "replace_sm",
        /// replace_sm_resp
        REPLACE_SM_RESP = 0x8000_0007 => "replace_sm_resp",
        /// cancel_sm
        CANCEL_SM = 0x0000_0008 => "cancel_sm",
        /// cancel_sm_resp
        CANCEL_SM_RESP = 0x8000_0008 => "cancel_sm_resp",
        /// bind_transceiver
        BIND_TRANSCEIVER = 0x0000_0009 => "bind_transceiver",
        /// bind_transceiver_resp
        BIND_TRANSCEIVER_RESP = 0x8000_0009 => "bind_transceiver_resp",
        /// outbind (no response exists)
        OUTBIND = 0x0000_000B => "outbind",
        /// enquire_link
        ENQUIRE_LINK = 0x0000_0015 => "enquire_link",
        /// enquire_link_resp
        ENQUIRE_LINK_RESP = 0x8000_0015 => "enquire_link_resp",
        /// submit_multi
        SUBMIT_MULTI = 0x0000_0021 => "submit_multi",
        /// submit_multi_resp
        SUBMIT_MULTI_RESP = 0x8000_0021 => "submit_multi_resp",
        /// alert_notification (no response exists)
        ALERT_NOTIFICATION = 0x0000_0102 => "alert_notification",
        /// data_sm
        DATA_SM = 0x0000_0103 => "data_sm",
        /// data_sm_resp
        DATA_SM_RESP = 0x8000_0103 => "data_sm_resp",
        /// generic_nack (never answered)
        GENERIC_NACK = 0x8000_0000 => "generic_nack",
    }
}

impl CommandId {
    /// True for response ids (bit 31 set), including generic_nack.
    pub const fn is_response(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }

    /// The response id a request is answered with, or `None` when the spec defines no
    /// response (outbind, alert_notification, generic_nack, responses, unknown ids).
    pub const fn response_id(self) -> Option<CommandId> {
        match self {
            Self::OUTBIND | Self::ALERT_NOTIFICATION => None,
            id if id.is_response() || id.name().is_none() => None,
            id => Some(CommandId(id.0 | 0x8000_0000)),
        }
    }
}

code_points! {
    /// `command_status` (smpp34.md §5). Unknown values (vendor 0x400-0x4FF and others) are kept.
    pub struct CommandStatus(u32) {
        /// Success
        ESME_ROK = 0x00 => "ESME_ROK",
        /// Message length invalid
        ESME_RINVMSGLEN = 0x01 => "ESME_RINVMSGLEN",
        /// command_length invalid
        ESME_RINVCMDLEN = 0x02 => "ESME_RINVCMDLEN",
        /// Invalid command_id
        ESME_RINVCMDID = 0x03 => "ESME_RINVCMDID",
        /// Incorrect bind status for the command
        ESME_RINVBNDSTS = 0x04 => "ESME_RINVBNDSTS",
        /// Already bound
        ESME_RALYBND = 0x05 => "ESME_RALYBND",
        /// Invalid priority_flag
        ESME_RINVPRTFLG = 0x06 => "ESME_RINVPRTFLG",
        /// Invalid registered_delivery
        ESME_RINVREGDLVFLG = 0x07 => "ESME_RINVREGDLVFLG",
        /// System error
        ESME_RSYSERR = 0x08 => "ESME_RSYSERR",
        /// Invalid source address
        ESME_RINVSRCADR = 0x0A => "ESME_RINVSRCADR",
        /// Invalid destination address
        ESME_RINVDSTADR = 0x0B => "ESME_RINVDSTADR",
        /// Invalid message_id
        ESME_RINVMSGID = 0x0C => "ESME_RINVMSGID",
        /// Bind failed
        ESME_RBINDFAIL = 0x0D => "ESME_RBINDFAIL",
        /// Invalid password
        ESME_RINVPASWD = 0x0E => "ESME_RINVPASWD",
        /// Invalid system_id
        ESME_RINVSYSID = 0x0F => "ESME_RINVSYSID",
        /// cancel_sm failed
        ESME_RCANCELFAIL = 0x11 => "ESME_RCANCELFAIL",
        /// replace_sm failed
        ESME_RREPLACEFAIL = 0x13 => "ESME_RREPLACEFAIL",
        /// Message queue full
        ESME_RMSGQFUL = 0x14 => "ESME_RMSGQFUL",
        /// Invalid service_type
        ESME_RINVSERTYP = 0x15 => "ESME_RINVSERTYP",
        /// Invalid number_of_dests
        ESME_RINVNUMDESTS = 0x33 => "ESME_RINVNUMDESTS",
        /// Invalid distribution list name
        ESME_RINVDLNAME = 0x34 => "ESME_RINVDLNAME",
        /// Invalid dest_flag
        ESME_RINVDESTFLAG = 0x40 => "ESME_RINVDESTFLAG",
        /// Invalid submit-with-replace request
        ESME_RINVSUBREP = 0x42 => "ESME_RINVSUBREP",
        /// Invalid esm_class
        ESME_RINVESMCLASS = 0x43 => "ESME_RINVESMCLASS",
        /// Cannot submit to distribution list
        ESME_RCNTSUBDL = 0x44 => "ESME_RCNTSUBDL",
        /// submit_sm / submit_multi failed
        ESME_RSUBMITFAIL = 0x45 => "ESME_RSUBMITFAIL",
        /// Invalid source TON
        ESME_RINVSRCTON = 0x48 => "ESME_RINVSRCTON",
        /// Invalid source NPI
        ESME_RINVSRCNPI = 0x49 => "ESME_RINVSRCNPI",
        /// Invalid destination TON
        ESME_RINVDSTTON = 0x50 => "ESME_RINVDSTTON",
        /// Invalid destination NPI
        ESME_RINVDSTNPI = 0x51 => "ESME_RINVDSTNPI",
        /// Invalid system_type
        ESME_RINVSYSTYP = 0x53 => "ESME_RINVSYSTYP",
        /// Invalid replace_if_present_flag
        ESME_RINVREPFLAG = 0x54 => "ESME_RINVREPFLAG",
        /// Invalid number of messages
        ESME_RINVNUMMSGS = 0x55 => "ESME_RINVNUMMSGS",
        /// Throttling error
        ESME_RTHROTTLED = 0x58 => "ESME_RTHROTTLED",
        /// Invalid schedule_delivery_time
        ESME_RINVSCHED = 0x61 => "ESME_RINVSCHED",
        /// Invalid validity_period
        ESME_RINVEXPIRY = 0x62 => "ESME_RINVEXPIRY",
        /// Predefined message invalid or not found
        ESME_RINVDFTMSGID = 0x63 => "ESME_RINVDFTMSGID",
        /// ESME receiver temporary application error
        ESME_RX_T_APPN = 0x64 => "ESME_RX_T_APPN",
        /// ESME receiver permanent application error
        ESME_RX_P_APPN = 0x65 => "ESME_RX_P_APPN",
        /// ESME receiver reject message error
        ESME_RX_R_APPN = 0x66 => "ESME_RX_R_APPN",
        /// query_sm failed
        ESME_RQUERYFAIL = 0x67 => "ESME_RQUERYFAIL",
        /// Error in the optional part of the PDU body
        ESME_RINVOPTPARSTREAM = 0xC0 => "ESME_RINVOPTPARSTREAM",
        /// Optional parameter not allowed
        ESME_ROPTPARNOTALLWD = 0xC1 => "ESME_ROPTPARNOTALLWD",
        /// Invalid parameter length
        ESME_RINVPARLEN = 0xC2 => "ESME_RINVPARLEN",
        /// Expected optional parameter missing
        ESME_RMISSINGOPTPARAM = 0xC3 => "ESME_RMISSINGOPTPARAM",
        /// Invalid optional parameter value
        ESME_RINVOPTPARAMVAL = 0xC4 => "ESME_RINVOPTPARAMVAL",
        /// Delivery failure (data_sm_resp)
        ESME_RDELIVERYFAILURE = 0xFE => "ESME_RDELIVERYFAILURE",
        /// Unknown error
        ESME_RUNKNOWNERR = 0xFF => "ESME_RUNKNOWNERR",
    }
}

impl CommandStatus {
    /// True for `ESME_ROK`.
    pub const fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// True for values in the carrier-specific range 0x400-0x4FF (smpp34.md §5).
    pub const fn is_vendor_specific(self) -> bool {
        matches!(self.0, 0x400..=0x4FF)
    }
}

code_points! {
    /// Type of number (smpp34.md §7.4).
    pub struct Ton(u8) {
        /// Unknown
        UNKNOWN = 0 => "unknown",
        /// International
        INTERNATIONAL = 1 => "international",
        /// National
        NATIONAL = 2 => "national",
        /// Network specific
        NETWORK_SPECIFIC = 3 => "network_specific",
        /// Subscriber number
        SUBSCRIBER_NUMBER = 4 => "subscriber_number",
        /// Alphanumeric
        ALPHANUMERIC = 5 => "alphanumeric",
        /// Abbreviated
        ABBREVIATED = 6 => "abbreviated",
    }
}

code_points! {
    /// Numbering plan indicator (smpp34.md §7.4).
    pub struct Npi(u8) {
        /// Unknown
        UNKNOWN = 0 => "unknown",
        /// ISDN (E.163/E.164)
        ISDN = 1 => "isdn",
        /// Data (X.121)
        DATA = 3 => "data",
        /// Telex (F.69)
        TELEX = 4 => "telex",
        /// Land mobile (E.212)
        LAND_MOBILE = 6 => "land_mobile",
        /// National
        NATIONAL = 8 => "national",
        /// Private
        PRIVATE = 9 => "private",
        /// ERMES
        ERMES = 10 => "ermes",
        /// Internet (IP)
        INTERNET = 14 => "internet",
        /// WAP client id
        WAP_CLIENT_ID = 18 => "wap_client_id",
    }
}

/// `esm_class` (smpp34.md §7.1): mode, message type and GSM feature bits in one octet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EsmClass(pub u8);

impl EsmClass {
    /// UDHI: the user data starts with a User Data Header.
    pub const UDHI: u8 = 0x40;
    /// Reply path.
    pub const REPLY_PATH: u8 = 0x80;
    /// Message type "SMSC delivery receipt" (deliver_sm / data_sm from the SMSC).
    pub const DELIVERY_RECEIPT: u8 = 0x04;
    /// Message type "intermediate delivery notification".
    pub const INTERMEDIATE_NOTIFICATION: u8 = 0x20;

    /// Messaging mode, bits 1-0.
    pub const fn mode(self) -> u8 {
        self.0 & 0x03
    }
    /// Message type, bits 5-2 (kept in place, e.g. 0x04 for a receipt).
    pub const fn message_type(self) -> u8 {
        self.0 & 0x3C
    }
    /// True when the UDHI bit is set.
    pub const fn udhi(self) -> bool {
        self.0 & Self::UDHI != 0
    }
    /// True when this marks an SMSC delivery receipt.
    pub const fn is_delivery_receipt(self) -> bool {
        self.message_type() == Self::DELIVERY_RECEIPT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_id_prints_as_hex_and_has_no_response() {
        let id = CommandId(0x0001_0200);
        assert_eq!(id.name(), None);
        assert_eq!(format!("{id}"), "0x10200");
        assert_eq!(id.response_id(), None);
    }

    #[test]
    fn response_id_sets_bit_31_only_for_requests_that_have_one() {
        assert_eq!(CommandId::SUBMIT_SM.response_id(), Some(CommandId::SUBMIT_SM_RESP));
        assert_eq!(CommandId::OUTBIND.response_id(), None);
        assert_eq!(CommandId::ALERT_NOTIFICATION.response_id(), None);
        assert_eq!(CommandId::GENERIC_NACK.response_id(), None);
        assert_eq!(CommandId::SUBMIT_SM_RESP.response_id(), None);
    }

    #[test]
    fn status_names_round_trip() {
        let s = CommandStatus::from_name("ESME_RTHROTTLED").unwrap();
        assert_eq!(s.get(), 0x58);
        assert_eq!(s.name(), Some("ESME_RTHROTTLED"));
        assert!(CommandStatus(0x401).is_vendor_specific());
    }

    #[test]
    fn esm_class_bits() {
        let e = EsmClass(0x44);
        assert!(e.udhi());
        assert!(e.is_delivery_receipt());
        assert_eq!(EsmClass(0x03).mode(), 3);
    }
}
