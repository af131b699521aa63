//! Mobile-originated messages: deliver_sm with esm_class 0 (plus UDHI for a concatenated
//! one), split the way the carrier splits (smpp-sms `segment`, smpp34.md §10), routed to a
//! receiver of the account like receipts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use smpp_codec::{Body, COctetString, DeliverSm, EsmClass, Npi, ShortMessage, Tlvs, Ton};
use tokio::sync::watch;

use crate::carrier::{Carrier, Delivery, DeliveryKind};
use crate::config::{MoFeedConfig, MoTemplate};
use crate::stats::Counters;

/// An MO to inject (`POST /mo`, [`crate::RunningSim::inject_mo`]).
///
/// ```
/// let mo: smpp_sim::MoRequest = serde_json::from_str(
///     r#"{"carrier": "docomo", "from": "819012345678", "to": "0120000000", "text": "1"}"#,
/// ).unwrap();
/// assert!(!mo.ucs2);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MoRequest {
    /// The carrier it arrives through; default the first.
    #[serde(default)]
    pub carrier: Option<String>,
    /// The account (system_id) it is for; default the first account with a receiver bound,
    /// else the first account (it is then queued until one binds).
    #[serde(default)]
    pub account: Option<String>,
    /// The handset's number (source_addr).
    pub from: String,
    /// The service number it was sent to (destination_addr).
    pub to: String,
    /// The text. Longer than one SMS, it is split into concatenated parts like the carrier
    /// splits (docomo 16-bit UDH, au/Rakuten 8-bit UDH, SoftBank message_payload).
    pub text: String,
    /// Send as UCS-2 even when the text fits GSM 03.38. Default false.
    #[serde(default)]
    pub ucs2: bool,
}

impl MoRequest {
    /// An MO on `carrier` from `from` to `to`.
    pub fn new(carrier: &str, from: &str, to: &str, text: &str) -> Self {
        Self {
            carrier: Some(carrier.to_owned()),
            account: None,
            from: from.to_owned(),
            to: to.to_owned(),
            text: text.to_owned(),
            ucs2: false,
        }
    }
}

/// What an injected MO became.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MoInjected {
    /// The carrier.
    pub carrier: String,
    /// The account it was routed to.
    pub account: String,
    /// deliver_sm parts.
    pub parts: usize,
    /// data_coding used.
    pub data_coding: u8,
    /// True when no receiver was bound and the parts were queued.
    pub queued: bool,
}

/// Why an MO could not be injected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoError {
    /// No such carrier.
    #[error("no carrier {0:?}")]
    UnknownCarrier(String),
    /// No such account on the carrier.
    #[error("no account {0:?} on this carrier")]
    UnknownAccount(String),
    /// An address is not 1-20 characters.
    #[error("{0} must be 1 to 20 characters")]
    Address(&'static str),
    /// The text cannot be sent (too long for the carrier).
    #[error("{0}")]
    Text(String),
}

fn addr(s: &str, field: &'static str) -> Result<(Ton, Npi, COctetString<21>), MoError> {
    let s = s.trim().trim_start_matches('+');
    let a = COctetString::copy_from_slice(s.as_bytes()).map_err(|_| MoError::Address(field))?;
    if a.is_empty() {
        return Err(MoError::Address(field));
    }
    let numeric = s.bytes().all(|b| b.is_ascii_digit());
    let (ton, npi) = match (numeric, s.len()) {
        (true, n) if n >= 10 && s.starts_with("81") => (Ton::INTERNATIONAL, Npi::ISDN),
        (true, n) if n >= 10 => (Ton::NATIONAL, Npi::ISDN),
        (true, _) => (Ton::NETWORK_SPECIFIC, Npi::ISDN),
        (false, _) => (Ton::ALPHANUMERIC, Npi::UNKNOWN),
    };
    Ok((ton, npi, a))
}

/// Splits and routes one MO.
pub(crate) fn inject(c: &Carrier, req: &MoRequest) -> Result<MoInjected, MoError> {
    let account = match &req.account {
        Some(a) => c.account(a).cloned().ok_or_else(|| MoError::UnknownAccount(a.clone()))?,
        None => c.mo_account(),
    };
    let (sto, snpi, source) = addr(&req.from, "from")?;
    let (dto, dnpi, dest) = addr(&req.to, "to")?;
    let reference = c.next_mo_reference(&req.from);
    let seg = smpp_sms::segment(&req.text, &c.profile, reference, req.ucs2)
        .map_err(|e| MoError::Text(e.to_string()))?;
    Counters::inc(&c.stats.mo_injected);
    let mut prefer = None;
    let mut queued = false;
    for part in &seg.parts {
        let mut tlvs = Tlvs::builder();
        let mut short_message = ShortMessage::empty();
        if part.in_message_payload {
            tlvs =
                tlvs.message_payload(&part.user_data).map_err(|e| MoError::Text(e.to_string()))?;
        } else {
            short_message = ShortMessage::new(Bytes::copy_from_slice(&part.user_data))
                .map_err(|e| MoError::Text(e.to_string()))?;
        }
        if let Some(s) = part.sar {
            tlvs = tlvs.sar(s.reference, s.total, s.seq);
        }
        let pdu = DeliverSm {
            source_addr_ton: sto,
            source_addr_npi: snpi,
            source_addr: source.clone(),
            dest_addr_ton: dto,
            dest_addr_npi: dnpi,
            destination_addr: dest.clone(),
            esm_class: EsmClass(part.esm_class_bits()),
            data_coding: seg.data_coding,
            short_message,
            ..Default::default()
        };
        // Every part to the session the first went to, so the ESME can reassemble.
        let d = Box::new(Delivery {
            kind: DeliveryKind::Mo,
            account: account.clone(),
            prefer,
            body: Body::DeliverSm(pdu),
            tlvs: tlvs.build(),
            attempts: 0,
        });
        match c.route(d) {
            Some(conn) => prefer = Some(conn),
            None => queued = true,
        }
    }
    Ok(MoInjected {
        carrier: c.name.clone(),
        account: account.name().to_owned(),
        parts: seg.parts.len(),
        data_coding: seg.data_coding,
        queued,
    })
}

/// One `carrier,from,to,text` line (the text may contain commas).
fn parse_feed_line(line: &str) -> Option<MoTemplate> {
    let mut it = line.splitn(4, ',');
    let (carrier, from, to, text) =
        (it.next()?.trim(), it.next()?.trim(), it.next()?.trim(), it.next()?);
    Some(MoTemplate {
        carrier: carrier.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
        text: text.to_owned(),
    })
}

/// Reads an MO feed file; errors name the file and line.
pub(crate) fn load_feed(path: &Path) -> Result<Vec<MoTemplate>, crate::ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::ConfigError::new("mo.file", format!("{}: {e}", path.display())))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        out.push(parse_feed_line(line).ok_or_else(|| {
            crate::ConfigError::new(
                "mo.file",
                format!("{}:{}: expected carrier,from,to,text", path.display(), i + 1),
            )
        })?);
    }
    Ok(out)
}

/// Injects the file's MOs and the generated ones at the configured rate until shutdown.
pub(crate) async fn run_feed(
    carriers: Vec<Arc<Carrier>>,
    cfg: MoFeedConfig,
    file: Vec<MoTemplate>,
    mut shutdown: watch::Receiver<bool>,
) {
    let rate = if cfg.rate_per_sec > 0.0 { cfg.rate_per_sec } else { 1.0 };
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    let mut i = 0usize;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let t = if i < file.len() {
            i += 1;
            file[i - 1].clone()
        } else if cfg.repeat && !file.is_empty() {
            i = 1;
            file[0].clone()
        } else if let Some(g) = &cfg.generate {
            g.clone()
        } else {
            return;
        };
        let Some(c) = carriers.iter().find(|c| c.name == t.carrier) else {
            tracing::warn!(carrier = %t.carrier, "MO feed names an unknown carrier; skipped");
            continue;
        };
        if let Err(e) = inject(c, &MoRequest::new(&t.carrier, &t.from, &t.to, &t.text)) {
            tracing::warn!(error = %e, "MO feed line not injected");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_lines_keep_commas_in_the_text() {
        let t = parse_feed_line("docomo,819012345678,0120000000,yes, it was me").unwrap();
        assert_eq!((t.carrier.as_str(), t.text.as_str()), ("docomo", "yes, it was me"));
        assert!(parse_feed_line("docomo,8190").is_none());
    }

    #[test]
    fn addresses_get_a_plausible_ton() {
        assert_eq!(addr("+819012345678", "from").unwrap().0, Ton::INTERNATIONAL);
        assert_eq!(addr("0120000000", "to").unwrap().0, Ton::NATIONAL);
        assert_eq!(addr("1234", "to").unwrap().0, Ton::NETWORK_SPECIFIC);
        assert!(addr("", "to").is_err());
    }
}
