//! submit_sm and deliver_sm (one layout, smpp34.md §4 "Message submission"; spec §4.4.1,
//! §4.6.1) and the message_id responses.

use crate::codes::{EsmClass, Npi, Ton};
use crate::field::body;
use crate::types::{COctetString, ShortMessage, Time};

body! {
    /// submit_sm (§4.4.1). deliver_sm (§4.6.1) has the same layout; see [`DeliverSm`].
    ///
    /// User data goes in `short_message` *or* the message_payload TLV, never both (§3.2.3).
    pub struct SubmitSm {
        /// "" for the default, or CMT, CPT, VMN, VMA, WAP, USSD, carrier-defined.
        pub service_type: COctetString<6>,
        /// Source TON.
        pub source_addr_ton: Ton,
        /// Source NPI.
        pub source_addr_npi: Npi,
        /// Sender address, at most 20 characters; empty lets the SMSC choose.
        pub source_addr: COctetString<21>,
        /// Destination TON.
        pub dest_addr_ton: Ton,
        /// Destination NPI.
        pub dest_addr_npi: Npi,
        /// Recipient MSISDN, at most 20 characters.
        pub destination_addr: COctetString<21>,
        /// Mode, type and UDHI (smpp34.md §7.1).
        pub esm_class: EsmClass,
        /// GSM TP-PID.
        pub protocol_id: u8,
        /// 0-3.
        pub priority_flag: u8,
        /// Empty = now. Must be empty in deliver_sm.
        pub schedule_delivery_time: Time,
        /// Empty = SMSC default. Must be empty in deliver_sm.
        pub validity_period: Time,
        /// Receipt request bits (smpp34.md §7.2).
        pub registered_delivery: u8,
        /// 0 or 1. Must be 0 in deliver_sm.
        pub replace_if_present_flag: u8,
        /// smpp34.md §7.3; 0x08 for UCS-2.
        pub data_coding: u8,
        /// Canned message index; 0 = none.
        pub sm_default_msg_id: u8,
        /// 0-254 octets; sm_length is derived from it.
        pub short_message: ShortMessage,
    }
}

/// deliver_sm shares submit_sm's layout (smpp34.md §4, §4.6.1).
pub type DeliverSm = SubmitSm;

body! {
    /// submit_sm_resp (§4.4.2); also the body of deliver_sm_resp and data_sm_resp.
    pub struct SubmitSmResp {
        /// The SMSC's id for the message, at most 64 characters. Empty in deliver_sm_resp.
        pub message_id: COctetString<65>,
    }
}

/// deliver_sm_resp: message_id unused, a single NUL (smpp34.md §13.6); peers sometimes fill it.
pub type DeliverSmResp = SubmitSmResp;
/// data_sm_resp: message_id plus TLVs (smpp34.md §4).
pub type DataSmResp = SubmitSmResp;
