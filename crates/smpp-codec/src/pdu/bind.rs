//! bind_transmitter / bind_receiver / bind_transceiver, their responses, and outbind
//! (smpp34.md §4, "Session PDUs"; spec §4.1).

use crate::codes::{Npi, Ton};
use crate::field::body;
use crate::types::COctetString;

body! {
    /// bind_transmitter, bind_receiver and bind_transceiver share this body (§4.1.1, 4.1.3,
    /// 4.1.5). interface_version is mandatory in all three (Issue 1.2 erratum).
    pub struct Bind {
        /// ESME identity (login), at most 15 characters.
        pub system_id: COctetString<16>,
        /// At most 8 characters.
        pub password: COctetString<9>,
        /// Usually empty.
        pub system_type: COctetString<13>,
        /// 0x34 for v3.4; 0x00-0x33 means v3.3 or earlier.
        pub interface_version: u8,
        /// TON of the ESME address range.
        pub addr_ton: Ton,
        /// NPI of the ESME address range.
        pub addr_npi: Npi,
        /// Regular expression of the addresses served; usually empty.
        pub address_range: COctetString<41>,
    }
}

body! {
    /// bind_*_resp (§4.1.2, 4.1.4, 4.1.6). The optional sc_interface_version TLV lives in the
    /// PDU's TLVs. On error the spec omits this body; peers often send it anyway.
    pub struct BindResp {
        /// SMSC identity.
        pub system_id: COctetString<16>,
    }
}

body! {
    /// outbind (§4.1.7): the SMSC asks the ESME to bind_receiver.
    pub struct Outbind {
        /// SMSC identity.
        pub system_id: COctetString<16>,
        /// Password the ESME checks.
        pub password: COctetString<9>,
    }
}

impl Bind {
    /// interface_version for SMPP v3.4.
    pub const V34: u8 = 0x34;
}
