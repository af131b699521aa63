//! alert_notification (smpp34.md §4; spec §4.12.1). It has no response.

use crate::codes::{Npi, Ton};
use crate::field::body;
use crate::types::COctetString;

body! {
    /// alert_notification: the MS at `source_addr` became reachable. The
    /// ms_availability_status TLV is in the PDU's TLVs.
    pub struct AlertNotification {
        /// MS TON.
        pub source_addr_ton: Ton,
        /// MS NPI.
        pub source_addr_npi: Npi,
        /// The MS address, at most 64 characters.
        pub source_addr: COctetString<65>,
        /// ESME TON.
        pub esme_addr_ton: Ton,
        /// ESME NPI.
        pub esme_addr_npi: Npi,
        /// The ESME address, at most 64 characters.
        pub esme_addr: COctetString<65>,
    }
}
