//! `smpp send`: one message, split as the carrier needs, with optional receipts.

use std::collections::HashSet;
use std::time::Duration;

use clap::Args;
use serde_json::{json, Value};
use smpp_sms::{segment, CarrierProfile};
use smpp_tokio::{compose, connect, Correlation, IncomingEvent};

use crate::conn_args::ConnArgs;

/// Send one message.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// Sender: an international number (+81…), a national one (0…) or an alphanumeric name.
    #[arg(long)]
    from: String,
    /// Recipient number.
    #[arg(long)]
    to: String,
    /// The text (UTF-8). GSM 03.38 when it fits, else UCS-2; split with a concatenation UDH.
    #[arg(long)]
    text: String,
    /// Carrier profile deciding the split: docomo, au, softbank or rakuten.
    #[arg(long, default_value = "docomo")]
    carrier: String,
    /// Always use UCS-2.
    #[arg(long)]
    ucs2: bool,
    /// Ask for delivery receipts and wait for them.
    #[arg(long)]
    dlr: bool,
    /// Seconds to wait for the receipts.
    #[arg(long = "dlr-timeout", default_value_t = 60.0)]
    dlr_timeout: f64,
}

pub(crate) async fn run(a: SendArgs) -> anyhow::Result<i32> {
    let profile = CarrierProfile::by_name(&a.carrier)?;
    let reference = fastrand::u16(..);
    let seg = segment(&a.text, &profile, reference, a.ucs2)?;
    let pdus = compose::submits(&seg, &a.from, &a.to, u8::from(a.dlr))?;
    let mut config = a.conn.config()?;
    if !a.dlr {
        config.discard_incoming();
    }
    let (client, conn) = connect(config)?;
    tokio::spawn(conn);
    let mut incoming = client.incoming().filter(|_| a.dlr);
    tokio::time::timeout(Duration::from_secs(15), client.ready())
        .await
        .map_err(|_| anyhow::anyhow!("no bind within 15 s to {}:{}", a.conn.host, a.conn.port))??;
    let mut ids = Vec::new();
    for (sm, tlvs) in pdus {
        ids.push(client.submit(sm, tlvs).await?.message_id.to_string());
    }
    let mut out = json!({
        "encoding": seg.encoding.as_str(),
        "chars": seg.chars,
        "method": seg.method.as_str(),
        "parts": seg.parts.len(),
        "billable": seg.billable,
        "message_ids": ids,
    });
    let mut complete = true;
    if let Some(rx) = incoming.as_mut() {
        let wait = Duration::from_secs_f64(a.dlr_timeout.max(0.0));
        let receipts = collect_receipts(rx, &ids, wait).await;
        complete = receipts.len() >= ids.len();
        out["receipts"] = Value::Array(receipts);
    }
    println!("{out}");
    client.unbind().await;
    Ok(if complete { 0 } else { 1 })
}

/// Final receipts for our ids, until every id has one or the time is up.
async fn collect_receipts(
    rx: &mut tokio::sync::mpsc::Receiver<IncomingEvent>,
    ids: &[String],
    wait: Duration,
) -> Vec<Value> {
    let mut done: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while done.len() < ids.len() {
        let ev = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(ev)) => ev,
            _ => break,
        };
        let (matched, receipt) = match ev {
            IncomingEvent::Message(m) => {
                let matched = match &m.correlation {
                    Some(Correlation::Matched(x)) => Some(x.message_id.clone()),
                    _ => None,
                };
                let r = m.receipt.clone();
                m.ack();
                (matched, r)
            }
            IncomingEvent::LateMatch(x) => (Some(x.message_id.clone()), Some(x.receipt.clone())),
            _ => continue,
        };
        let (Some(id), Some(r)) = (matched, receipt) else { continue };
        if r.is_final {
            done.insert(id.to_string());
        }
        out.push(json!({
            "message_id": id.as_str(),
            "stat": r.stat.as_ref().map(|s| s.as_str().to_string()),
            "state": r.state.name(),
            "err": r.err.as_deref(),
            "final": r.is_final,
        }));
    }
    out
}
