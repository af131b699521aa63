//! Message management: query_sm, cancel_sm, replace_sm and query_sm_resp
//! (smpp34.md §4 "Message management"; spec §4.8-§4.10).

use crate::codes::{Npi, Ton};
use crate::field::body;
use crate::types::{COctetString, ShortMessage, Time};

body! {
    /// query_sm (§4.8.1).
    pub struct QuerySm {
        /// The id from submit_sm_resp.
        pub message_id: COctetString<65>,
        /// Must match the original submission.
        pub source_addr_ton: Ton,
        /// Must match the original submission.
        pub source_addr_npi: Npi,
        /// Must match the original submission (empty if it was empty).
        pub source_addr: COctetString<21>,
    }
}

body! {
    /// query_sm_resp (§4.8.2).
    pub struct QuerySmResp {
        /// The queried id.
        pub message_id: COctetString<65>,
        /// Empty until a final state; SMSC local time. Kept as a plain string because
        /// SMSC-reported dates deviate from the 16-character form (smpp34.md §7.6).
        pub final_date: COctetString<17>,
        /// smpp34.md §7.9.
        pub message_state: u8,
        /// Network-specific error code.
        pub error_code: u8,
    }
}

body! {
    /// cancel_sm (§4.9.1). With an empty message_id, cancels every pending message matching
    /// source and destination.
    pub struct CancelSm {
        /// Service type (optional filter).
        pub service_type: COctetString<6>,
        /// The id to cancel, or empty.
        pub message_id: COctetString<65>,
        /// Source TON.
        pub source_addr_ton: Ton,
        /// Source NPI.
        pub source_addr_npi: Npi,
        /// Source address.
        pub source_addr: COctetString<21>,
        /// Destination TON.
        pub dest_addr_ton: Ton,
        /// Destination NPI.
        pub dest_addr_npi: Npi,
        /// Destination address (may be empty when message_id is given).
        pub destination_addr: COctetString<21>,
    }
}

body! {
    /// replace_sm (§4.10.1). It has no data_coding: the new text keeps the original's coding.
    pub struct ReplaceSm {
        /// The id to replace.
        pub message_id: COctetString<65>,
        /// Source TON.
        pub source_addr_ton: Ton,
        /// Source NPI.
        pub source_addr_npi: Npi,
        /// Source address.
        pub source_addr: COctetString<21>,
        /// New schedule.
        pub schedule_delivery_time: Time,
        /// New validity.
        pub validity_period: Time,
        /// New receipt request.
        pub registered_delivery: u8,
        /// Canned message index.
        pub sm_default_msg_id: u8,
        /// New text.
        pub short_message: ShortMessage,
    }
}
