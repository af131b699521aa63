//! proptest strategies for every PDU the codec can build, shared by the property tests.
//!
//! Values stay inside the spec's limits (that is what the field types allow); the interesting
//! corners are covered on purpose: C-Octet Strings up to their last allowed character,
//! short_message with 0x00 octets, sequence numbers 0 and ≥ 0x80000000, bodiless responses,
//! vendor TLVs.

use std::sync::OnceLock;

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use smpp_codec::{
    AlertNotification, Bind, BindResp, Body, COctetString, CancelSm, CommandId, CommandStatus,
    DataSm, DestAddress, DestAddresses, EsmClass, Npi, Outbind, Pdu, QuerySm, QuerySmResp,
    ReplaceSm, ShortMessage, SubmitMulti, SubmitMultiResp, SubmitSm, SubmitSmResp, Tag, Time,
    TlvType, Tlvs, Ton, UnsuccessSme, UnsuccessSmes,
};

/// Every command_id the codec names. Derived from the codec itself, so a command added later
/// makes [`body_for`] panic until it gets a strategy.
pub(crate) fn all_command_ids() -> &'static [CommandId] {
    static IDS: OnceLock<Vec<CommandId>> = OnceLock::new();
    IDS.get_or_init(|| {
        (0..=0xFFFF_u32)
            .flat_map(|low| [low, low | 0x8000_0000])
            .map(CommandId)
            .filter(|id| id.name().is_some())
            .collect()
    })
}

/// Every TLV tag the spec gives a type, again taken from the codec.
pub(crate) fn known_tags() -> &'static [Tag] {
    static TAGS: OnceLock<Vec<Tag>> = OnceLock::new();
    TAGS.get_or_init(|| (0..=u16::MAX).map(Tag).filter(|t| t.spec_type().is_some()).collect())
}

/// 0 to N-1 octets, none of them NUL: every value a `COctetString<N>` can hold.
pub(crate) fn c_octet_string<const N: usize>() -> impl Strategy<Value = COctetString<N>> {
    prop_oneof![
        // Printable, as most peers send.
        vec(0x20_u8..=0x7E, 0..N),
        // Any non-NUL octet, including high-bit ones.
        vec(1_u8..=0xFF, 0..N),
    ]
    .prop_map(|v| COctetString::new(v).expect("0..N non-NUL octets fit a COctetString<N>"))
}

/// Empty, or `YYMMDDhhmmsstnn` and one of `+`, `-`, `R`.
pub(crate) fn time() -> impl Strategy<Value = Time> {
    prop_oneof![
        Just(Time::empty()),
        (vec(b'0'..=b'9', 15), select(vec![b'+', b'-', b'R'])).prop_map(|(mut t, p)| {
            t.push(p);
            Time::new(t).expect("15 digits and a sign are a valid time")
        }),
    ]
}

/// 0 to 254 arbitrary octets (0x00 included: GSM '@' and UCS-2 high octets).
pub(crate) fn short_message() -> impl Strategy<Value = ShortMessage> {
    vec(any::<u8>(), 0..=ShortMessage::MAX)
        .prop_map(|v| ShortMessage::new(v).expect("at most 254 octets"))
}

pub(crate) fn ton() -> impl Strategy<Value = Ton> {
    any::<u8>().prop_map(Ton)
}

pub(crate) fn npi() -> impl Strategy<Value = Npi> {
    any::<u8>().prop_map(Npi)
}

/// Any u32, with 0, the range ends and bit-31 values weighted in.
pub(crate) fn sequence_number() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0_u32),
        Just(1),
        Just(0x7FFF_FFFF),
        Just(0x8000_0000),
        Just(u32::MAX),
        0x8000_0000..=u32::MAX,
        any::<u32>(),
    ]
}

/// Known statuses, vendor ones (0x400-0x4FF) and anything else.
pub(crate) fn command_status() -> impl Strategy<Value = CommandStatus> {
    prop_oneof![
        Just(CommandStatus::ESME_ROK),
        (0_u32..=0xFF).prop_map(CommandStatus),
        (0x400_u32..=0x4FF).prop_map(CommandStatus),
        any::<u32>().prop_map(CommandStatus),
    ]
}

pub(crate) fn bind() -> impl Strategy<Value = Bind> {
    (
        c_octet_string(),
        c_octet_string(),
        c_octet_string(),
        any::<u8>(),
        ton(),
        npi(),
        c_octet_string(),
    )
        .prop_map(
            |(system_id, password, system_type, interface_version, addr_ton, addr_npi, range)| {
                Bind {
                    system_id,
                    password,
                    system_type,
                    interface_version,
                    addr_ton,
                    addr_npi,
                    address_range: range,
                }
            },
        )
}

pub(crate) fn bind_resp() -> impl Strategy<Value = BindResp> {
    c_octet_string().prop_map(|system_id| BindResp { system_id })
}

pub(crate) fn outbind() -> impl Strategy<Value = Outbind> {
    (c_octet_string(), c_octet_string())
        .prop_map(|(system_id, password)| Outbind { system_id, password })
}

/// submit_sm; deliver_sm has the same layout.
pub(crate) fn submit_sm() -> impl Strategy<Value = SubmitSm> {
    let addresses =
        (c_octet_string(), ton(), npi(), c_octet_string(), ton(), npi(), c_octet_string());
    let rest = (
        any::<u8>().prop_map(EsmClass),
        any::<u8>(),
        any::<u8>(),
        time(),
        time(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        short_message(),
    );
    (addresses, rest).prop_map(
        |(
            (service_type, src_ton, src_npi, source_addr, dst_ton, dst_npi, destination_addr),
            (esm, pid, prio, sched, validity, rd, replace, dcs, default_id, short_message),
        )| SubmitSm {
            service_type,
            source_addr_ton: src_ton,
            source_addr_npi: src_npi,
            source_addr,
            dest_addr_ton: dst_ton,
            dest_addr_npi: dst_npi,
            destination_addr,
            esm_class: esm,
            protocol_id: pid,
            priority_flag: prio,
            schedule_delivery_time: sched,
            validity_period: validity,
            registered_delivery: rd,
            replace_if_present_flag: replace,
            data_coding: dcs,
            sm_default_msg_id: default_id,
            short_message,
        },
    )
}

pub(crate) fn dest_address() -> impl Strategy<Value = DestAddress> {
    prop_oneof![
        (ton(), npi(), c_octet_string()).prop_map(
            |(dest_addr_ton, dest_addr_npi, destination_addr)| DestAddress::Sme {
                dest_addr_ton,
                dest_addr_npi,
                destination_addr,
            }
        ),
        c_octet_string().prop_map(|dl_name| DestAddress::DistributionList { dl_name }),
    ]
}

/// 1 to 254 destinations, mostly few, sometimes the maximum.
pub(crate) fn dest_addresses() -> impl Strategy<Value = DestAddresses> {
    prop_oneof![
        4 => vec(dest_address(), 1..=8),
        1 => vec(dest_address(), 1..=DestAddresses::MAX),
        1 => vec(dest_address(), DestAddresses::MAX),
    ]
    .prop_map(|d| DestAddresses::new(d).expect("1..=254 destinations"))
}

pub(crate) fn submit_multi() -> impl Strategy<Value = SubmitMulti> {
    let head = (c_octet_string(), ton(), npi(), c_octet_string(), dest_addresses());
    let rest = (
        any::<u8>().prop_map(EsmClass),
        any::<u8>(),
        any::<u8>(),
        time(),
        time(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        any::<u8>(),
        short_message(),
    );
    (head, rest).prop_map(
        |(
            (service_type, src_ton, src_npi, source_addr, dest_addresses),
            (esm, pid, prio, sched, validity, rd, replace, dcs, default_id, short_message),
        )| SubmitMulti {
            service_type,
            source_addr_ton: src_ton,
            source_addr_npi: src_npi,
            source_addr,
            dest_addresses,
            esm_class: esm,
            protocol_id: pid,
            priority_flag: prio,
            schedule_delivery_time: sched,
            validity_period: validity,
            registered_delivery: rd,
            replace_if_present_flag: replace,
            data_coding: dcs,
            sm_default_msg_id: default_id,
            short_message,
        },
    )
}

pub(crate) fn unsuccess_sme() -> impl Strategy<Value = UnsuccessSme> {
    (ton(), npi(), c_octet_string(), command_status()).prop_map(
        |(dest_addr_ton, dest_addr_npi, destination_addr, error_status_code)| UnsuccessSme {
            dest_addr_ton,
            dest_addr_npi,
            destination_addr,
            error_status_code,
        },
    )
}

pub(crate) fn submit_multi_resp() -> impl Strategy<Value = SubmitMultiResp> {
    let smes = prop_oneof![
        4 => vec(unsuccess_sme(), 0..=4),
        1 => vec(unsuccess_sme(), 0..=255),
    ];
    (c_octet_string(), smes).prop_map(|(message_id, smes)| SubmitMultiResp {
        message_id,
        unsuccess_smes: UnsuccessSmes::new(smes).expect("at most 255 entries"),
    })
}

pub(crate) fn submit_sm_resp() -> impl Strategy<Value = SubmitSmResp> {
    c_octet_string().prop_map(|message_id| SubmitSmResp { message_id })
}

pub(crate) fn data_sm() -> impl Strategy<Value = DataSm> {
    (
        c_octet_string(),
        ton(),
        npi(),
        c_octet_string(),
        ton(),
        npi(),
        c_octet_string(),
        any::<u8>().prop_map(EsmClass),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(
            |(service_type, src_ton, src_npi, source_addr, dst_ton, dst_npi, dst, esm, rd, dcs)| {
                DataSm {
                    service_type,
                    source_addr_ton: src_ton,
                    source_addr_npi: src_npi,
                    source_addr,
                    dest_addr_ton: dst_ton,
                    dest_addr_npi: dst_npi,
                    destination_addr: dst,
                    esm_class: esm,
                    registered_delivery: rd,
                    data_coding: dcs,
                }
            },
        )
}

pub(crate) fn query_sm() -> impl Strategy<Value = QuerySm> {
    (c_octet_string(), ton(), npi(), c_octet_string()).prop_map(
        |(message_id, source_addr_ton, source_addr_npi, source_addr)| QuerySm {
            message_id,
            source_addr_ton,
            source_addr_npi,
            source_addr,
        },
    )
}

pub(crate) fn query_sm_resp() -> impl Strategy<Value = QuerySmResp> {
    (c_octet_string(), c_octet_string(), any::<u8>(), any::<u8>()).prop_map(
        |(message_id, final_date, message_state, error_code)| QuerySmResp {
            message_id,
            final_date,
            message_state,
            error_code,
        },
    )
}

pub(crate) fn cancel_sm() -> impl Strategy<Value = CancelSm> {
    (
        c_octet_string(),
        c_octet_string(),
        ton(),
        npi(),
        c_octet_string(),
        ton(),
        npi(),
        c_octet_string(),
    )
        .prop_map(
            |(service_type, message_id, src_ton, src_npi, source_addr, dst_ton, dst_npi, dst)| {
                CancelSm {
                    service_type,
                    message_id,
                    source_addr_ton: src_ton,
                    source_addr_npi: src_npi,
                    source_addr,
                    dest_addr_ton: dst_ton,
                    dest_addr_npi: dst_npi,
                    destination_addr: dst,
                }
            },
        )
}

pub(crate) fn replace_sm() -> impl Strategy<Value = ReplaceSm> {
    (
        c_octet_string(),
        ton(),
        npi(),
        c_octet_string(),
        time(),
        time(),
        any::<u8>(),
        any::<u8>(),
        short_message(),
    )
        .prop_map(
            |(message_id, src_ton, src_npi, source_addr, sched, validity, rd, default_id, sm)| {
                ReplaceSm {
                    message_id,
                    source_addr_ton: src_ton,
                    source_addr_npi: src_npi,
                    source_addr,
                    schedule_delivery_time: sched,
                    validity_period: validity,
                    registered_delivery: rd,
                    sm_default_msg_id: default_id,
                    short_message: sm,
                }
            },
        )
}

pub(crate) fn alert_notification() -> impl Strategy<Value = AlertNotification> {
    (ton(), npi(), c_octet_string(), ton(), npi(), c_octet_string()).prop_map(
        |(src_ton, src_npi, source_addr, esme_ton, esme_npi, esme_addr)| AlertNotification {
            source_addr_ton: src_ton,
            source_addr_npi: src_npi,
            source_addr,
            esme_addr_ton: esme_ton,
            esme_addr_npi: esme_npi,
            esme_addr,
        },
    )
}

/// A response body: the spec's body, or none at all (an error response, or a tolerated
/// bodiless success, smpp34.md §13.5).
fn response<T: std::fmt::Debug + Clone + 'static>(
    body: impl Strategy<Value = T> + 'static,
    variant: fn(Option<T>) -> Body,
) -> BoxedStrategy<Body> {
    prop_oneof![1 => Just(None), 3 => body.prop_map(Some)].prop_map(variant).boxed()
}

/// A strategy for the body of `id`. Panics for a command without a strategy, so that
/// [`all_command_ids`] and this table cannot drift apart.
pub(crate) fn body_for(id: CommandId) -> BoxedStrategy<Body> {
    match id {
        CommandId::BIND_TRANSMITTER => bind().prop_map(Body::BindTransmitter).boxed(),
        CommandId::BIND_RECEIVER => bind().prop_map(Body::BindReceiver).boxed(),
        CommandId::BIND_TRANSCEIVER => bind().prop_map(Body::BindTransceiver).boxed(),
        CommandId::BIND_TRANSMITTER_RESP => response(bind_resp(), Body::BindTransmitterResp),
        CommandId::BIND_RECEIVER_RESP => response(bind_resp(), Body::BindReceiverResp),
        CommandId::BIND_TRANSCEIVER_RESP => response(bind_resp(), Body::BindTransceiverResp),
        CommandId::OUTBIND => outbind().prop_map(Body::Outbind).boxed(),
        CommandId::UNBIND => Just(Body::Unbind).boxed(),
        CommandId::UNBIND_RESP => Just(Body::UnbindResp).boxed(),
        CommandId::ENQUIRE_LINK => Just(Body::EnquireLink).boxed(),
        CommandId::ENQUIRE_LINK_RESP => Just(Body::EnquireLinkResp).boxed(),
        CommandId::GENERIC_NACK => Just(Body::GenericNack).boxed(),
        CommandId::SUBMIT_SM => submit_sm().prop_map(Body::SubmitSm).boxed(),
        CommandId::SUBMIT_SM_RESP => response(submit_sm_resp(), Body::SubmitSmResp),
        CommandId::SUBMIT_MULTI => submit_multi().prop_map(Body::SubmitMulti).boxed(),
        CommandId::SUBMIT_MULTI_RESP => response(submit_multi_resp(), Body::SubmitMultiResp),
        CommandId::DELIVER_SM => submit_sm().prop_map(Body::DeliverSm).boxed(),
        CommandId::DELIVER_SM_RESP => response(submit_sm_resp(), Body::DeliverSmResp),
        CommandId::DATA_SM => data_sm().prop_map(Body::DataSm).boxed(),
        CommandId::DATA_SM_RESP => response(submit_sm_resp(), Body::DataSmResp),
        CommandId::QUERY_SM => query_sm().prop_map(Body::QuerySm).boxed(),
        CommandId::QUERY_SM_RESP => response(query_sm_resp(), Body::QuerySmResp),
        CommandId::CANCEL_SM => cancel_sm().prop_map(Body::CancelSm).boxed(),
        CommandId::CANCEL_SM_RESP => Just(Body::CancelSmResp).boxed(),
        CommandId::REPLACE_SM => replace_sm().prop_map(Body::ReplaceSm).boxed(),
        CommandId::REPLACE_SM_RESP => Just(Body::ReplaceSmResp).boxed(),
        CommandId::ALERT_NOTIFICATION => {
            alert_notification().prop_map(Body::AlertNotification).boxed()
        }
        other => panic!("no strategy for {other}: add one to tests/common/mod.rs"),
    }
}

/// One TLV with a known tag and a length its spec type allows, pushed through the builder
/// method that fits the type.
fn known_tlv() -> impl Strategy<Value = (Tag, TlvValue)> {
    select(known_tags()).prop_flat_map(|tag| {
        let value = match tag.spec_type().expect("known tag") {
            TlvType::Int(1) => any::<u8>().prop_map(TlvValue::U8).boxed(),
            TlvType::Int(2) => any::<u16>().prop_map(TlvValue::U16).boxed(),
            TlvType::Int(n) => vec(any::<u8>(), usize::from(n)).prop_map(TlvValue::Raw).boxed(),
            // The NUL is counted in `max`, and the builder adds it.
            TlvType::CString(max) => {
                vec(1_u8..=0xFF, 0..usize::from(max)).prop_map(TlvValue::CStr).boxed()
            }
            // message_payload may be 65535 octets; a few hundred exercise the same code.
            TlvType::Octets(min, max) => {
                vec(any::<u8>(), usize::from(min)..=usize::from(max.min(300)))
                    .prop_map(TlvValue::Raw)
                    .boxed()
            }
            TlvType::Empty => Just(TlvValue::Raw(Vec::new())).boxed(),
        };
        value.prop_map(move |v| (tag, v))
    })
}

/// An unknown tag (vendor range 0x1400-0x3FFF, v5.0 tags, anything else) with any value.
fn unknown_tlv() -> impl Strategy<Value = (Tag, TlvValue)> {
    let tag = prop_oneof![0x1400_u16..=0x3FFF, any::<u16>()]
        .prop_map(Tag)
        .prop_filter("tag must be unknown", |t| t.spec_type().is_none());
    (tag, vec(any::<u8>(), 0..=64)).prop_map(|(t, v)| (t, TlvValue::Raw(v)))
}

#[derive(Clone, Debug)]
pub(crate) enum TlvValue {
    U8(u8),
    U16(u16),
    CStr(Vec<u8>),
    Raw(Vec<u8>),
}

/// A TLV area of 0 to 6 TLVs, known and unknown, built with `TlvsBuilder`.
pub(crate) fn tlvs() -> impl Strategy<Value = Tlvs> {
    vec(prop_oneof![3 => known_tlv(), 1 => unknown_tlv()], 0..=6).prop_map(|list| {
        let mut b = Tlvs::builder();
        for (tag, value) in list {
            b = match value {
                TlvValue::U8(v) => b.push_u8(tag, v),
                TlvValue::U16(v) => b.push_u16(tag, v),
                TlvValue::CStr(v) => b.push_c_str(tag, &v).expect("no NUL, fits u16"),
                TlvValue::Raw(v) => b.push(tag, &v).expect("fits u16"),
            };
        }
        b.build()
    })
}

/// Any PDU of any command. A bodiless response carries no TLVs: the wire cannot tell such
/// TLVs from a body, so the codec writes it with its empty body and it decodes as
/// `Some(Default::default())` (see `a_bodiless_response_with_tlvs_is_written_with_its_empty_body`).
pub(crate) fn pdu() -> impl Strategy<Value = Pdu> {
    select(all_command_ids())
        .prop_flat_map(|id| (body_for(id), command_status(), sequence_number(), tlvs()))
        .prop_map(|(body, status, seq, tlvs)| {
            let tlvs = if body.body_present() { tlvs } else { Tlvs::new() };
            Pdu::new(seq, body).with_status(status).with_tlvs(tlvs)
        })
}

/// The wire bytes of `pdu`.
pub(crate) fn encode(pdu: &Pdu) -> Bytes {
    pdu.to_bytes()
}
