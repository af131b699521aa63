//! submit_multi and submit_multi_resp (smpp34.md §4; spec §4.5).

use bytes::{BufMut, Bytes, BytesMut};
use nom::error::context;
use nom::number::complete::{be_u32, be_u8};
use nom::Parser as _;

use crate::codes::{CommandStatus, EsmClass, Npi, Ton};
use crate::field::{
    body, build_int, BuildError, Field, FieldSource, FieldVisitor, In, PErr, PResult,
};
use crate::types::{COctetString, InvalidValue, ShortMessage, Time};

/// One destination of submit_multi: an SME address (dest_flag 1) or a distribution list
/// name (dest_flag 2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestAddress {
    /// dest_flag 1.
    Sme {
        /// TON.
        dest_addr_ton: Ton,
        /// NPI.
        dest_addr_npi: Npi,
        /// Address, at most 20 characters.
        destination_addr: COctetString<21>,
    },
    /// dest_flag 2.
    DistributionList {
        /// List name, at most 20 characters.
        dl_name: COctetString<21>,
    },
}

impl DestAddress {
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        let (i, flag) = context("dest_flag", be_u8).parse(i)?;
        match flag {
            1 => {
                let (i, dest_addr_ton) =
                    context("dest_addr_ton", |i| Ton::decode(frame, i)).parse(i)?;
                let (i, dest_addr_npi) =
                    context("dest_addr_npi", |i| Npi::decode(frame, i)).parse(i)?;
                let (i, destination_addr) =
                    context("destination_addr", |i| COctetString::decode(frame, i)).parse(i)?;
                Ok((i, DestAddress::Sme { dest_addr_ton, dest_addr_npi, destination_addr }))
            }
            2 => {
                let (i, dl_name) =
                    context("dl_name", |i| COctetString::decode(frame, i)).parse(i)?;
                Ok((i, DestAddress::DistributionList { dl_name }))
            }
            // smpp34.md §4: any other dest_flag → ESME_RINVDESTFLAG.
            _ => Err(nom::Err::Error(PErr {
                field: "dest_flag",
                fail: crate::field::Fail::Invalid("dest_flag must be 1 (SME) or 2 (list)"),
            })),
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            DestAddress::Sme { destination_addr, .. } => 3 + destination_addr.encoded_len(),
            DestAddress::DistributionList { dl_name } => 1 + dl_name.encoded_len(),
        }
    }

    fn encode(&self, buf: &mut BytesMut) {
        match self {
            DestAddress::Sme { dest_addr_ton, dest_addr_npi, destination_addr } => {
                buf.put_u8(1);
                buf.put_u8(dest_addr_ton.0);
                buf.put_u8(dest_addr_npi.0);
                destination_addr.encode(buf);
            }
            DestAddress::DistributionList { dl_name } => {
                buf.put_u8(2);
                dl_name.encode(buf);
            }
        }
    }

    fn visit(&self, v: &mut dyn FieldVisitor) {
        match self {
            DestAddress::Sme { dest_addr_ton, dest_addr_npi, destination_addr } => {
                v.int("dest_flag", 1, 1);
                v.int("dest_addr_ton", dest_addr_ton.0.into(), 1);
                v.int("dest_addr_npi", dest_addr_npi.0.into(), 1);
                v.c_str("destination_addr", destination_addr.as_bytes());
            }
            DestAddress::DistributionList { dl_name } => {
                v.int("dest_flag", 2, 1);
                v.c_str("dl_name", dl_name.as_bytes());
            }
        }
    }

    fn build(src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        match src.int("dest_flag")? {
            Some(1) => Ok(DestAddress::Sme {
                dest_addr_ton: Ton::build("dest_addr_ton", src)?,
                dest_addr_npi: Npi::build("dest_addr_npi", src)?,
                destination_addr: COctetString::build("destination_addr", src)?,
            }),
            Some(2) => {
                Ok(DestAddress::DistributionList { dl_name: COctetString::build("dl_name", src)? })
            }
            other => Err(BuildError::new(
                "dest_flag",
                format!("must be 1 (SME address) or 2 (distribution list), got {other:?}"),
            )),
        }
    }
}

/// submit_multi's destination list, 1 to 254 entries; number_of_dests is derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestAddresses(Vec<DestAddress>);

impl DestAddresses {
    /// Most destinations submit_multi carries.
    pub const MAX: usize = 254;

    /// Validates the count (1..=254).
    pub fn new(dests: Vec<DestAddress>) -> Result<Self, InvalidValue> {
        if dests.is_empty() || dests.len() > Self::MAX {
            return Err(InvalidValue::NumberOfDests { count: dests.len() });
        }
        Ok(Self(dests))
    }

    /// The destinations.
    pub fn as_slice(&self) -> &[DestAddress] {
        &self.0
    }
}

impl Field for DestAddresses {
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        let (mut i, n) = context("number_of_dests", be_u8).parse(i)?;
        if n == 0 || usize::from(n) > Self::MAX {
            return Err(nom::Err::Error(PErr {
                field: "number_of_dests",
                fail: crate::field::Fail::Invalid("number_of_dests must be 1 to 254"),
            }));
        }
        let mut dests = Vec::with_capacity(usize::from(n).min(i.len() / 2));
        for _ in 0..n {
            let (rest, d) = DestAddress::decode(frame, i)?;
            dests.push(d);
            i = rest;
        }
        Ok((i, Self(dests)))
    }
    fn encoded_len(&self) -> usize {
        1 + self.0.iter().map(DestAddress::encoded_len).sum::<usize>()
    }
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.0.len() as u8);
        self.0.iter().for_each(|d| d.encode(buf));
    }
    fn visit(&self, _: &'static str, v: &mut dyn FieldVisitor) {
        v.int("number_of_dests", self.0.len() as u32, 1);
        v.begin_list("dest_addresses", self.0.len());
        for d in &self.0 {
            v.begin_item();
            d.visit(v);
            v.end_item();
        }
        v.end_list();
    }
    fn build(_: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        let items = src.list("dest_addresses")?.unwrap_or_default();
        let dests = items
            .into_iter()
            .map(|mut s| DestAddress::build(&mut *s))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(n) = src.int("number_of_dests")? {
            if n as usize != dests.len() {
                return Err(BuildError::new(
                    "number_of_dests",
                    format!("{n} does not match the {} dest_addresses given", dests.len()),
                ));
            }
        }
        Self::new(dests).map_err(|e| BuildError::new("dest_addresses", e.to_string()))
    }
}

body! {
    /// submit_multi (§4.5.1).
    pub struct SubmitMulti {
        /// Service type.
        pub service_type: COctetString<6>,
        /// Source TON.
        pub source_addr_ton: Ton,
        /// Source NPI.
        pub source_addr_npi: Npi,
        /// Source address.
        pub source_addr: COctetString<21>,
        /// number_of_dests and the dest_address entries.
        pub dest_addresses: DestAddresses,
        /// smpp34.md §7.1.
        pub esm_class: EsmClass,
        /// GSM TP-PID.
        pub protocol_id: u8,
        /// 0-3.
        pub priority_flag: u8,
        /// Empty = now.
        pub schedule_delivery_time: Time,
        /// Empty = SMSC default.
        pub validity_period: Time,
        /// smpp34.md §7.2.
        pub registered_delivery: u8,
        /// Reserved, must be 0.
        pub replace_if_present_flag: u8,
        /// smpp34.md §7.3.
        pub data_coding: u8,
        /// Canned message index.
        pub sm_default_msg_id: u8,
        /// User data.
        pub short_message: ShortMessage,
    }
}

/// A destination submit_multi could not deliver to (§4.5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsuccessSme {
    /// TON.
    pub dest_addr_ton: Ton,
    /// NPI.
    pub dest_addr_npi: Npi,
    /// Address.
    pub destination_addr: COctetString<21>,
    /// Why, as a command_status value.
    pub error_status_code: CommandStatus,
}

/// submit_multi_resp's list of failed destinations; no_unsuccess is derived from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnsuccessSmes(Vec<UnsuccessSme>);

impl UnsuccessSmes {
    /// Validates the count (at most 255, an Int1).
    pub fn new(entries: Vec<UnsuccessSme>) -> Result<Self, InvalidValue> {
        if entries.len() > 255 {
            return Err(InvalidValue::TooManyEntries { count: entries.len() });
        }
        Ok(Self(entries))
    }

    /// The entries.
    pub fn as_slice(&self) -> &[UnsuccessSme] {
        &self.0
    }
}

impl Field for UnsuccessSmes {
    fn decode<'a>(frame: &Bytes, i: In<'a>) -> PResult<'a, Self> {
        let (mut i, n) = context("no_unsuccess", be_u8).parse(i)?;
        let mut v = Vec::with_capacity(usize::from(n).min(i.len() / 7));
        for _ in 0..n {
            let (r, dest_addr_ton) =
                context("dest_addr_ton", |i| Ton::decode(frame, i)).parse(i)?;
            let (r, dest_addr_npi) =
                context("dest_addr_npi", |i| Npi::decode(frame, i)).parse(r)?;
            let (r, destination_addr) =
                context("destination_addr", |i| COctetString::decode(frame, i)).parse(r)?;
            let (r, code) = context("error_status_code", be_u32).parse(r)?;
            v.push(UnsuccessSme {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
                error_status_code: CommandStatus(code),
            });
            i = r;
        }
        Ok((i, Self(v)))
    }
    fn encoded_len(&self) -> usize {
        1 + self.0.iter().map(|u| 6 + u.destination_addr.encoded_len()).sum::<usize>()
    }
    fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.0.len() as u8);
        for u in &self.0 {
            buf.put_u8(u.dest_addr_ton.0);
            buf.put_u8(u.dest_addr_npi.0);
            u.destination_addr.encode(buf);
            buf.put_u32(u.error_status_code.0);
        }
    }
    fn visit(&self, _: &'static str, v: &mut dyn FieldVisitor) {
        v.int("no_unsuccess", self.0.len() as u32, 1);
        v.begin_list("unsuccess_smes", self.0.len());
        for u in &self.0 {
            v.begin_item();
            v.int("dest_addr_ton", u.dest_addr_ton.0.into(), 1);
            v.int("dest_addr_npi", u.dest_addr_npi.0.into(), 1);
            v.c_str("destination_addr", u.destination_addr.as_bytes());
            v.int("error_status_code", u.error_status_code.0, 4);
            v.end_item();
        }
        v.end_list();
    }
    fn build(_: &'static str, src: &mut dyn FieldSource) -> Result<Self, BuildError> {
        let items = src.list("unsuccess_smes")?.unwrap_or_default();
        let mut v = Vec::with_capacity(items.len());
        for mut s in items {
            let s = &mut *s;
            v.push(UnsuccessSme {
                dest_addr_ton: Ton::build("dest_addr_ton", s)?,
                dest_addr_npi: Npi::build("dest_addr_npi", s)?,
                destination_addr: COctetString::build("destination_addr", s)?,
                error_status_code: CommandStatus(build_int("error_status_code", s)?),
            });
        }
        if let Some(n) = src.int("no_unsuccess")? {
            if n as usize != v.len() {
                return Err(BuildError::new(
                    "no_unsuccess",
                    format!("{n} does not match the {} unsuccess_smes given", v.len()),
                ));
            }
        }
        Self::new(v).map_err(|e| BuildError::new("unsuccess_smes", e.to_string()))
    }
}

body! {
    /// submit_multi_resp (§4.5.2). No TLVs.
    pub struct SubmitMultiResp {
        /// The SMSC's id for the message.
        pub message_id: COctetString<65>,
        /// no_unsuccess and the failed destinations.
        pub unsuccess_smes: UnsuccessSmes,
    }
}
