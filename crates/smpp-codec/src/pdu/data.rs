//! data_sm (smpp34.md §4; spec §4.7.1). Addresses here hold 64 characters, not 20.

use crate::codes::{EsmClass, Npi, Ton};
use crate::field::body;
use crate::types::COctetString;

body! {
    /// data_sm (§4.7.1): user data only in the message_payload TLV.
    pub struct DataSm {
        /// Service type.
        pub service_type: COctetString<6>,
        /// Source TON.
        pub source_addr_ton: Ton,
        /// Source NPI.
        pub source_addr_npi: Npi,
        /// Source address, at most 64 characters.
        pub source_addr: COctetString<65>,
        /// Destination TON.
        pub dest_addr_ton: Ton,
        /// Destination NPI.
        pub dest_addr_npi: Npi,
        /// Destination address, at most 64 characters.
        pub destination_addr: COctetString<65>,
        /// smpp34.md §7.1.
        pub esm_class: EsmClass,
        /// smpp34.md §7.2.
        pub registered_delivery: u8,
        /// smpp34.md §7.3.
        pub data_coding: u8,
    }
}
