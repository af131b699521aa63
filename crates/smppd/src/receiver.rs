//! One receiver per SMSC account: reads receipts and MOs from the binds, writes them to the
//! store in groups, and answers each deliver_sm only after its group is on disk. A crash
//! before that leaves the receipt with the SMSC, which sends it again: nothing is lost.

use std::sync::Arc;
use std::time::Instant;

use smpp_codec::{Body, CommandStatus};
use smpp_dlr::{MessageState, Receipt};
use smpp_sms::{MoPart, ReassembledMessage, Reassembler, ReassemblyConfig};
use smpp_tokio::{EsmeClient, Incoming, IncomingEvent};
use smppd_store::{MessageStatus, MoIn, NewMessage, ReceiptIn, ReceiptOutcome};
use tokio::sync::{mpsc, watch};

use crate::app::App;
use crate::policy::{mask, OPT_OUT_REPLY_CLASS};

/// Most PDUs taken from the binds per store write.
const GROUP: usize = 2048;

/// One account's receiving loop.
pub struct Receiver {
    app: Arc<App>,
    carrier: String,
    account: String,
    incoming: mpsc::Receiver<IncomingEvent>,
    reassembler: Reassembler,
}

impl Receiver {
    /// Takes the client's incoming stream. `None` when someone else already took it.
    pub fn new(app: Arc<App>, carrier: &str, account: &str, client: &EsmeClient) -> Option<Self> {
        Some(Self {
            app,
            carrier: carrier.to_string(),
            account: account.to_string(),
            incoming: client.incoming()?,
            reassembler: Reassembler::new(ReassemblyConfig::default()),
        })
    }

    /// Runs until the client stops or `stop` turns true.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut events = Vec::with_capacity(GROUP);
        loop {
            tokio::select! {
                n = self.incoming.recv_many(&mut events, GROUP) => if n == 0 { break },
                _ = stop.changed() => break,
            }
            self.handle(std::mem::take(&mut events)).await;
        }
    }

    async fn handle(&mut self, events: Vec<IncomingEvent>) {
        let now = self.app.now();
        let mut receipts = Vec::new();
        let mut receipt_acks = Vec::new();
        let mut mos = Vec::new();
        let mut mo_acks = Vec::new();
        for ev in events {
            let IncomingEvent::Message(m) = ev else { continue };
            if let Some(r) = m.receipt.as_ref().and_then(|r| self.receipt(r, now)) {
                receipts.push(r);
                receipt_acks.push(m);
            } else if m.receipt.is_some() {
                // A receipt without an id can never be matched: take it so the SMSC stops.
                m.ack();
            } else {
                match self.mo(&m) {
                    Some(mo) => {
                        mos.push(mo);
                        mo_acks.push(m);
                    }
                    None => m.ack(),
                }
            }
        }
        self.store_receipts(receipts, receipt_acks).await;
        self.store_mos(mos, mo_acks).await;
    }

    fn receipt(&self, r: &Receipt, now: i64) -> Option<ReceiptIn> {
        let state = r.stat.as_ref().map_or_else(
            || r.state.name().unwrap_or("UNKNOWN").to_string(),
            |s| s.as_str().to_string(),
        );
        Some(ReceiptIn {
            account: self.account.clone(),
            smsc_id: r.id()?.to_string(),
            state,
            is_final: r.is_final,
            delivered: r.state == MessageState::DELIVERED,
            error: r
                .err
                .as_deref()
                .map(str::to_owned)
                .or_else(|| r.network_error.as_ref().map(|e| format!("{e:?}"))),
            at: now,
        })
    }

    // Boxed as they arrived: `ack` takes the box, so the ~500-octet messages never move.
    #[allow(clippy::vec_box)]
    async fn store_receipts(&self, receipts: Vec<ReceiptIn>, acks: Vec<Box<Incoming>>) {
        let states: Vec<String> = receipts.iter().map(|r| r.state.clone()).collect();
        match self.app.receipts.write(receipts).await {
            Ok(outcomes) => {
                for (state, o) in states.iter().zip(&outcomes) {
                    self.count_receipt(state, o);
                }
                acks.into_iter().for_each(|m| m.ack());
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store receipts; the SMSC will resend them");
                acks.into_iter().for_each(|m| m.reject(CommandStatus::ESME_RX_T_APPN));
            }
        }
    }

    fn count_receipt(&self, state: &str, o: &ReceiptOutcome) {
        let outcome = match o {
            ReceiptOutcome::Matched { latency_ms, .. } => {
                if let Some(ms) = latency_ms {
                    self.app
                        .metrics
                        .delivery_latency
                        .with_label_values(&[&self.carrier])
                        .observe(*ms as f64 / 1000.0);
                }
                "matched"
            }
            ReceiptOutcome::Duplicate { .. } => "duplicate",
            ReceiptOutcome::Held => "held",
        };
        self.app.metrics.receipts.with_label_values(&[&self.carrier, state, outcome]).inc();
    }

    /// A complete MO, or `None` while parts are missing (or for a PDU that is no MO).
    fn mo(&mut self, m: &Incoming) -> Option<MoIn> {
        let Body::DeliverSm(d) = &m.pdu.body else { return None };
        let from = String::from_utf8_lossy(d.source_addr.as_bytes()).into_owned();
        let to = String::from_utf8_lossy(d.destination_addr.as_bytes()).into_owned();
        let sar =
            m.pdu.tlvs.sar().map(|(reference, total, seq)| smpp_sms::Sar { reference, total, seq });
        let part = MoPart {
            from: &from,
            to: &to,
            data_coding: d.data_coding,
            esm_class: d.esm_class.0,
            short_message: d.short_message.as_bytes(),
            sar,
            payload: m.pdu.tlvs.message_payload(),
            now: Instant::now(),
        };
        match self.reassembler.push(part) {
            Ok(Some(msg)) => Some(self.mo_in(msg)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(from = %mask(&from), error = %e, "unreadable MO part");
                None
            }
        }
    }

    fn mo_in(&self, msg: ReassembledMessage) -> MoIn {
        let from = if msg.from.starts_with("81") { format!("+{}", msg.from) } else { msg.from };
        let text = msg.text.unwrap_or_default();
        // The opt-out list is keyed by E.164, as messages are.
        let e164 = self.app.policy.normalise_number(&from).ok();
        let opt_out = e164.is_some() && self.app.policy.config().is_stop_keyword(&text);
        let at = self.app.now();
        let reply = match &e164 {
            Some(number) if opt_out => self.opt_out_reply(number, &msg.to, at),
            _ => None,
        };
        if opt_out {
            tracing::info!(from = %mask(&from), carrier = %self.carrier, "opt-out by MO");
        }
        MoIn {
            account: self.account.clone(),
            carrier: self.carrier.clone(),
            from: e164.unwrap_or(from),
            to: msg.to,
            text,
            at,
            opt_out,
            reply,
        }
    }

    /// The acknowledgement of an opt-out (`[optout]`), accepted with the MO. It goes back
    /// through the carrier the MO came from (the handset's carrier), from the number the
    /// handset wrote to unless `reply_from` says otherwise; its class is never held.
    fn opt_out_reply(&self, to: &str, mo_to: &str, at: smppd_store::Millis) -> Option<NewMessage> {
        let c = &self.app.config.optout;
        if !c.reply {
            return None;
        }
        let from = c.reply_from.clone().unwrap_or_else(|| mo_to.to_string());
        crate::intake::check_sender(&from).ok()?;
        let profile = self.app.profile(&self.carrier)?;
        let seg = smpp_sms::segment(&c.reply_text, profile, 0, false).ok()?;
        Some(NewMessage {
            api_key: "smppd".into(),
            idempotency_key: None,
            client_ref: None,
            to: to.to_string(),
            from,
            text: c.reply_text.clone(),
            class: OPT_OUT_REPLY_CLASS.into(),
            carrier: self.carrier.clone(),
            segments: seg.parts.len() as u32,
            billable: seg.billable,
            status: MessageStatus::Queued,
            not_before: at,
            deadline: None,
            dlr: true,
            priority: self.app.policy.priority(OPT_OUT_REPLY_CLASS),
            reason: None,
            created_at: at,
            batch_id: None,
        })
    }

    // Boxed as they arrived: `ack` takes the box, so the ~500-octet messages never move.
    #[allow(clippy::vec_box)]
    async fn store_mos(&self, mos: Vec<MoIn>, acks: Vec<Box<Incoming>>) {
        if mos.is_empty() {
            return;
        }
        let n = mos.len() as u64;
        match self.app.mos.write(mos).await {
            Ok(recorded) => {
                self.app.metrics.mos.with_label_values(&[&self.carrier]).inc_by(n);
                acks.into_iter().for_each(|m| m.ack());
                if recorded.iter().any(|r| r.reply.is_some()) {
                    self.app.wake.notify_waiters();
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not store MOs; the SMSC will resend them");
                acks.into_iter().for_each(|m| m.reject(CommandStatus::ESME_RX_T_APPN));
            }
        }
    }
}
