//! The policy layer end to end, through the HTTP API against the simulated carriers, on a
//! clock the test moves: quiet hours, MNP re-routes, CSV batches with maker-checker
//! approval, opt-out by MO, the suppression list's pre-send check, the billing report and
//! the audit trail.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};
use smpp_sim::MoRequest;
use smppd::clock::{parse_rfc3339, rfc3339, ManualClock};

const T: Duration = Duration::from_secs(20);

/// A Japan-time instant, `2027-02-01T22:30:00`.
fn jst(s: &str) -> i64 {
    parse_rfc3339(&format!("{s}+09:00")).unwrap()
}

fn sjis(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable, "{text}");
    bytes.into_owned()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Polls `f` until it returns `Some`, for at most [`T`].
async fn eventually<V, F, Fut>(what: &str, mut f: F) -> V
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<V>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(start.elapsed() < T, "still waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn start(
    carriers: &[&str],
    tweak: impl FnOnce(&mut smpp_sim::SimConfig),
    at: i64,
    extra: &str,
) -> (smpp_sim::RunningSim, smppd::Daemon, Arc<ManualClock>, tempfile::TempDir) {
    let mut cfg = sim_config(carriers);
    tweak(&mut cfg);
    let sim = start_sim(cfg).await;
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(at));
    let toml = daemon_toml(&sim, &dir.path().join("db"), extra);
    let d = start_daemon_with_clock(&toml, clock.clone()).await;
    (sim, d, clock, dir)
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

async fn audit(d: &smppd::Daemon, id: &str) -> Vec<Value> {
    let (code, v) = get(d, &format!("/v1/messages/{id}/audit")).await;
    assert_eq!(code, 200, "{v}");
    v["entries"].as_array().unwrap().clone()
}

fn entry<'a>(entries: &'a [Value], event: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["event"] == event)
        .unwrap_or_else(|| panic!("no {event} in {entries:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dunning_is_held_through_quiet_hours_and_goes_out_at_eight_on_the_daemons_clock() {
    let (sim, d, clock, _dir) = start(&["docomo"], |_| {}, jst("2027-02-01T22:30:00"), "").await;
    let (code, v) =
        post(&d, "/v1/messages", message("09012345001", "dunning", "お支払いのお願い")).await;
    assert_eq!((code, v["status"].as_str()), (202, Some("held")), "{v}");
    let id = id_of(&v);
    let (_, m) = get(&d, &format!("/v1/messages/{id}")).await;
    assert_eq!(m["not_before"], rfc3339(jst("2027-02-02T08:00:00")), "{m}");
    // An OTP at the same moment has no quiet hours.
    let (_, otp) = post(&d, "/v1/messages", message("09012345002", "otp", "123456")).await;
    wait_status(&d, &id_of(&otp), T, |s| s == "delivered").await;
    // A reminder that could only go out after its deadline is refused at once.
    let mut late = message("09012345003", "dunning", "期限付き");
    late["deadline"] = json!("2027-02-02T07:00:00+09:00");
    let (_, v) = post(&d, "/v1/messages", late).await;
    assert_eq!(v["status"], "rejected", "{v}");

    clock.set(jst("2027-02-02T07:59:59"));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(sim.messages(None, "819012345001").is_empty(), "not one second early");
    assert_eq!(get(&d, &format!("/v1/messages/{id}")).await.1["status"], "held");

    clock.set(jst("2027-02-02T08:00:00"));
    let m = wait_status(&d, &id, T, |s| s == "delivered").await;
    assert_eq!(sim.messages(None, "819012345001").len(), 1, "{m}");

    let entries = audit(&d, &id).await;
    assert_eq!(entry(&entries, "created")["actor"], "maker");
    assert_eq!(entries[0]["event"], "created", "oldest first: {entries:#?}");
    let held = entry(&entries, "held");
    assert_eq!(held["detail"]["until"], rfc3339(jst("2027-02-02T08:00:00")), "{held}");
    assert!(held["detail"]["reason"].as_str().unwrap().contains("21:00-08:00"), "{held}");
    let submitted = entry(&entries, "submitted");
    assert_eq!(submitted["status"], "ok");
    assert_eq!(submitted["message_id"], m["segment_details"][0]["message_id"]);
    assert_eq!(submitted["at"], rfc3339(jst("2027-02-02T08:00:00")));
    assert_eq!(entry(&entries, "receipt")["state"], "DELIVRD");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ported_number_is_rerouted_once_resegmented_and_learned_across_restarts() {
    let ported = |c: &mut smpp_sim::SimConfig| {
        // The first is now a SoftBank subscriber; the second moved to au, which we have no
        // bind to.
        c.mnp.entries = vec!["09012340001,softbank".into(), "09012340002,au".into()];
    };
    let (sim, d, clock, dir) = start(
        &["docomo", "softbank"],
        ported,
        jst("2027-02-01T10:00:00"),
        "[routing]\ndefault_carrier = \"docomo\"\n",
    )
    .await;
    let text = "ご利用ありがとうございます。".repeat(7); // 98 UCS-2 characters
    let (_, v) = post(&d, "/v1/messages", message("09012340001", "fraud_alert", &text)).await;
    assert_eq!((v["carrier"].as_str(), v["segments"].as_u64()), (Some("docomo"), Some(2)), "{v}");
    let id = id_of(&v);
    let m = wait_status(&d, &id, T, is_final).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert_eq!(
        (m["carrier"].as_str(), m["rerouted_from"].as_str()),
        (Some("softbank"), Some("docomo"))
    );
    assert_eq!(
        (m["segments"].as_u64(), m["billable"].as_u64()),
        (Some(1), Some(1)),
        "SoftBank: one PDU"
    );
    assert_eq!(sim.messages(Some("softbank"), "819012340001").len(), 1);
    let refused =
        |c: &str| sim.stats().carrier(c).errors.get("ESME_RINVDSTADR").copied().unwrap_or(0);
    assert_eq!(refused("docomo"), 2, "both parts refused once");
    let rerouted = entry(&audit(&d, &id).await, "rerouted").clone();
    assert_eq!(
        rerouted["detail"],
        json!({"from": "docomo", "to": "softbank", "status": "ESME_RINVDSTADR"})
    );

    // The table learned: the next message goes to SoftBank directly.
    let (_, v) = post(&d, "/v1/messages", message("09012340001", "otp", "code 1")).await;
    assert_eq!(v["carrier"], "softbank", "{v}");
    wait_status(&d, &id_of(&v), T, |s| s == "delivered").await;
    assert_eq!(refused("docomo"), 2);

    // Refused by both carriers: re-routed once, then failed; never a third attempt.
    let (_, v) = post(&d, "/v1/messages", message("09012340002", "otp", "code 2")).await;
    let m = wait_status(&d, &id_of(&v), T, is_final).await;
    assert_eq!(
        (m["status"].as_str(), m["rerouted_from"].as_str()),
        (Some("failed"), Some("docomo")),
        "{m}"
    );
    assert_eq!((refused("docomo"), refused("softbank")), (3, 1));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!((refused("docomo"), refused("softbank")), (3, 1), "not re-routed twice");
    d.shutdown().await;

    // The lesson is on disk: after a restart the number still goes to SoftBank directly.
    let toml =
        daemon_toml(&sim, &dir.path().join("db"), "[routing]\ndefault_carrier = \"docomo\"\n");
    let d = start_daemon_with_clock(&toml, clock).await;
    let (_, v) = post(&d, "/v1/messages", message("09012340001", "otp", "code 3")).await;
    assert_eq!(v["carrier"], "softbank", "{v}");
    wait_status(&d, &id_of(&v), T, |s| s == "delivered").await;
    assert_eq!(refused("docomo"), 3);
    d.shutdown().await;
    sim.shutdown().await;
}

const TEMPLATE: &str = "{{name}}様 ご利用代金{{amount}}円のお支払いを確認できておりません。";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shift_jis_batch_reports_bad_rows_and_is_sent_only_after_another_operator_approves() {
    let (sim, d, _clock, _dir) = start(&["docomo"], |_| {}, jst("2027-02-01T10:00:00"), "").await;
    let (code, _) =
        call(&d, "PUT", "/v1/suppressions/09011110004", KEY, json!({"reason": "recycled_number"}))
            .await;
    assert_eq!(code, 200);
    let long = "長".repeat(700);
    let csv = format!(
        "phone,name,amount\r\n090-1111-0001,山田,1200\r\n09011110002,佐藤,3400\r\n0312345678,鈴木,100\r\n\
         09011110003,,500\r\n090-1111-0001,山田,1200\r\n09011110004,高橋,900\r\n09011110005,{long},1\r\n\
         +81 90 1111 0006,伊藤,7800\r\n"
    );
    let body = json!({"name": "2月督促", "class": "dunning", "template": TEMPLATE,
                      "csv_base64": b64(&sjis(&csv)), "from": "CARDCO"});
    let (code, b) = post(&d, "/v1/batches", body).await;
    assert_eq!(code, 201, "{b}");
    assert_eq!((b["status"].as_str(), b["created_by"].as_str()), (Some("draft"), Some("maker")));
    assert_eq!(b["rows"], json!({"total": 8, "valid": 3, "invalid": 5}));
    let errors: BTreeMap<u64, String> = b["row_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["errors"].to_string()))
        .collect();
    assert_eq!(errors.keys().copied().collect::<Vec<_>>(), [4, 5, 6, 7, 8], "{errors:?}");
    for (line, expect) in [
        (4, "landline"),
        (5, "missing field name"),
        (6, "same number as line 2"),
        (7, "suppressed(recycled_number)"),
        (8, "at most 660"),
    ] {
        assert!(errors[&line].contains(expect), "line {line}: {}", errors[&line]);
    }
    let id = id_of(&b);

    let (code, p) = get(&d, &format!("/v1/batches/{id}/preview?limit=2")).await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["messages"].as_array().unwrap().len(), 2);
    assert_eq!(
        p["messages"][0]["text"],
        "山田様 ご利用代金1200円のお支払いを確認できておりません。"
    );
    assert_eq!(
        (p["messages"][0]["carrier"].as_str(), p["messages"][0]["billable"].as_u64()),
        (Some("docomo"), Some(1))
    );
    assert_eq!(p["total"], json!({"messages": 3, "segments": 3, "billable": 3}), "{p}");

    let act = |key: &'static str, action: &'static str| {
        let path = format!("/v1/batches/{id}/{action}");
        let d = &d;
        async move { call(d, "POST", &path, key, Value::Null).await }
    };
    assert_eq!(act(OTHER_KEY, "approve").await.0, 409, "a draft cannot be approved");
    let (code, v) = act(KEY, "submit").await;
    assert_eq!((code, v["status"].as_str()), (200, Some("pending_approval")), "{v}");
    let (code, v) = act(KEY, "approve").await;
    assert_eq!(code, 403, "{v}");
    assert!(v["error"]["reason"].as_str().unwrap().contains("maker-checker"), "{v}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sim.messages(None, "819011110001").is_empty(), "nothing goes out before approval");
    let (code, v) = act(OTHER_KEY, "approve").await;
    assert_eq!((code, v["approved_by"].as_str()), (200, Some("checker")), "{v}");
    assert!(v["status"] == "running" || v["status"] == "done", "{v}");

    let done = eventually("every message delivered", || async {
        let (_, v) = get(&d, &format!("/v1/batches/{id}")).await;
        (v["messages"] == json!({"delivered": 3})).then_some(v)
    })
    .await;
    assert_eq!(done["status"], "done", "{done}");
    for (n, expect) in
        [("0001", 1), ("0002", 1), ("0006", 1), ("0003", 0), ("0004", 0), ("0005", 0)]
    {
        assert_eq!(sim.messages(None, &format!("81901111{n}")).len(), expect, "handset {n}");
    }
    let got = &sim.messages(None, "819011110002")[0];
    assert_eq!(
        got.text.as_deref(),
        Some("佐藤様 ご利用代金3400円のお支払いを確認できておりません。")
    );

    // The evidence names both operators.
    let (_, one) = get(&d, "/v1/messages/1").await;
    assert_eq!(one["batch_id"].as_str(), Some(id.as_str()), "{one}");
    let entries = audit(&d, "1").await;
    assert_eq!(entry(&entries, "batch_created")["actor"], "maker");
    assert_eq!(entry(&entries, "batch_approved")["actor"], "checker");
    assert_eq!(entry(&entries, "receipt")["state"], "DELIVRD");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_workflow_rejects_edits_pauses_and_rechecks_quiet_hours_on_resume() {
    let extra = "[policy.classes.notice]\nrequires_approval = false\n";
    let (sim, d, clock, _dir) = start(&["docomo"], |_| {}, jst("2027-02-01T10:00:00"), extra).await;
    let csv = "\u{FEFF}phone,name,amount\n09022220001,山田,100\n09022220002,佐藤,200\n";
    let mut body = json!({"name": "notice", "class": "notice", "template": TEMPLATE, "csv": csv,
                          "from": "CARDCO", "send_at": "2027-02-01T12:00:00+09:00"});
    let (code, b) = post(&d, "/v1/batches", body.clone()).await;
    assert_eq!(code, 201, "{b}");
    let id = id_of(&b);
    let path = |action: &str| format!("/v1/batches/{id}/{action}");
    // No approval for this class: submit queues the messages, held for send_at.
    let (_, v) = call(&d, "POST", &path("submit"), KEY, Value::Null).await;
    assert_eq!(
        (v["status"].as_str(), &v["messages"]),
        (Some("running"), &json!({"held": 2})),
        "{v}"
    );
    let (_, v) = call(&d, "POST", &path("pause"), OTHER_KEY, Value::Null).await;
    assert_eq!(v["status"], "paused", "{v}");
    let (code, _) = call(&d, "PUT", &format!("/v1/batches/{id}"), KEY, body.clone()).await;
    assert_eq!(code, 409, "a paused batch cannot be edited");

    // Past send_at, but paused: nothing goes. Resumed at 22:00: inside quiet hours, so the
    // sender's pre-send check holds them until 08:00.
    clock.set(jst("2027-02-01T22:00:00"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sim.messages(None, "819022220001").is_empty());
    let (_, v) = call(&d, "POST", &path("resume"), OTHER_KEY, Value::Null).await;
    assert_eq!(v["status"], "running", "{v}");
    let eight = rfc3339(jst("2027-02-02T08:00:00"));
    eventually("re-held until 08:00", || async {
        let (_, m) = get(&d, "/v1/messages/1").await;
        (m["status"] == "held" && m["not_before"] == eight.as_str()).then_some(())
    })
    .await;
    assert!(sim.messages(None, "819022220001").is_empty(), "never sent at 22:00");
    let kinds: Vec<Value> = audit(&d, "1").await.iter().map(|e| e["event"].clone()).collect();
    for k in ["held", "paused", "resumed"] {
        assert!(kinds.contains(&json!(k)), "{k} in {kinds:?}");
    }
    clock.set(jst("2027-02-02T08:00:00"));
    for m in ["1", "2"] {
        wait_status(&d, m, T, |s| s == "delivered").await;
    }

    // A dunning batch: rejected by the checker, edited by the maker, then cancelled.
    body["class"] = json!("dunning");
    body["send_at"] = Value::Null;
    let (_, b) = post(&d, "/v1/batches", body.clone()).await;
    let id2 = id_of(&b);
    let path2 = |action: &str| format!("/v1/batches/{id2}/{action}");
    call(&d, "POST", &path2("submit"), KEY, Value::Null).await;
    let (_, v) =
        call(&d, "POST", &path2("reject"), OTHER_KEY, json!({"reason": "wrong amounts"})).await;
    assert_eq!(
        (v["status"].as_str(), v["reject_reason"].as_str()),
        (Some("draft"), Some("wrong amounts")),
        "{v}"
    );
    body["csv"] = json!("phone,name,amount\n09022220003,伊藤,300\n");
    let (code, v) = call(&d, "PUT", &format!("/v1/batches/{id2}"), KEY, body).await;
    assert_eq!(
        (code, v["status"].as_str(), v["edited_by"].as_str()),
        (200, Some("draft"), Some("maker")),
        "{v}"
    );
    assert_eq!(v["rows"]["total"], 1);
    assert_eq!((b["revision"].as_u64(), v["revision"].as_u64()), (Some(1), Some(2)), "{v}");
    let (_, v) = call(&d, "POST", &path2("submit"), KEY, Value::Null).await;
    assert_eq!(v["status"], "pending_approval", "{v}");
    // A checker who reviewed revision 1 does not approve revision 2 by mistake.
    let (code, e) = call(&d, "POST", &path2("approve"), OTHER_KEY, json!({"revision": 1})).await;
    assert_eq!(code, 409, "{e}");
    assert!(e["error"]["reason"].as_str().unwrap().contains("revision 2, not 1"), "{e}");
    let (code, e) = call(&d, "POST", &path2("approve"), OTHER_KEY, json!({"revision": "2"})).await;
    assert_eq!((code, e["error"]["field"].as_str()), (400, Some("revision")), "{e}");
    assert!(sim.messages(None, "819022220003").is_empty(), "nothing approved");
    let (_, v) = call(&d, "POST", &path2("cancel"), OTHER_KEY, Value::Null).await;
    assert_eq!(
        (v["status"].as_str(), v["cancelled_by"].as_str()),
        (Some("cancelled"), Some("checker")),
        "{v}"
    );
    assert_eq!(call(&d, "POST", &path2("submit"), KEY, Value::Null).await.0, 409);
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_batch_input_gets_4xx_naming_the_field() {
    let (sim, d, _clock, _dir) = start(&["docomo"], |_| {}, jst("2027-02-01T10:00:00"), "").await;
    let ok = json!({"name": "n", "class": "notice", "template": TEMPLATE, "from": "CARDCO",
                    "csv": "phone,name,amount\n09012345678,a,1\n"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    let cases = [
        (with("template", Value::Null), "template", "required"),
        (with("template", json!("{{name}")), "template", "unclosed"),
        (with("template", json!("{{colour}}")), "template", "colour"),
        (with("number_column", json!("tel")), "number_column", "tel"),
        (with("csv_base64", json!("***")), "csv_base64", "not both"),
        (
            {
                let mut b = with("csv_base64", json!("***"));
                b["csv"] = Value::Null;
                b
            },
            "csv_base64",
            "not base64",
        ),
        (with("class", json!("promo")), "class", "unknown message class"),
        (with("from", json!("a very long sender")), "from", "alphanumeric"),
        (with("csv", Value::Null), "csv", "required"),
        (with("colour", json!("red")), "colour", "unknown field"),
        (with("csv", json!("")), "csv", "empty"),
    ];
    for (body, field, reason) in cases {
        let (code, v) = post(&d, "/v1/batches", body.clone()).await;
        assert_eq!((code, v["error"]["field"].as_str()), (400, Some(field)), "{body} → {v}");
        assert!(v["error"]["reason"].as_str().unwrap().contains(reason), "{body} → {v}");
    }
    let (_, doc) = request(d.addr(), "GET", "/openapi.json", None, &[], "").await;
    for path in ["/v1/batches/{id}/{action}", "/v1/reports/billing", "/v1/suppressions:import"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert_eq!(get(&d, "/v1/batches/abc").await.0, 400);
    assert_eq!(get(&d, "/v1/batches/999").await.0, 404);
    let (_, b) = post(&d, "/v1/batches", ok).await;
    let id = id_of(&b);
    assert_eq!(
        get(&d, &format!("/v1/batches/{id}/preview?limit=0")).await.1["error"]["field"],
        "limit"
    );
    assert_eq!(
        call(&d, "POST", &format!("/v1/batches/{id}/frobnicate"), KEY, Value::Null).await.0,
        404
    );
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_by_mo_opts_the_number_out_of_campaigns_and_is_acknowledged() {
    let (hook_addr, hooks) = webhook_receiver(0).await;
    let (sim, d, _clock, _dir) =
        start(&["docomo"], |_| {}, jst("2027-02-01T10:00:00"), &webhook_toml(hook_addr)).await;
    sim.inject_mo(&MoRequest::new("docomo", "819011112222", "0120000000", "ＳＴＯＰ")).unwrap();
    let mo = eventually("the MO webhook", || async {
        hooks.all().into_iter().map(|(b, _)| b).find(|b| b["type"] == "mo")
    })
    .await;
    assert_eq!(
        (mo["from"].as_str(), mo["opted_out"].as_bool()),
        (Some("+819011112222"), Some(true)),
        "{mo}"
    );
    let ack = eventually("the acknowledgement", || async {
        sim.messages(Some("docomo"), "819011112222").into_iter().next()
    })
    .await;
    assert_eq!(
        (ack.text.as_deref(), ack.from.as_str()),
        (Some("配信を停止しました。"), "0120000000")
    );
    let (code, e) = get(&d, "/v1/optouts/090-1111-2222").await;
    assert_eq!(
        (code, e["reason"].as_str(), e["added_by"].as_str()),
        (200, Some("stop_keyword"), Some("mo")),
        "{e}"
    );

    let (_, v) = post(&d, "/v1/messages", message("09011112222", "campaign", "セール")).await;
    assert_eq!(v["status"], "rejected", "{v}");
    let (_, m) = get(&d, &format!("/v1/messages/{}", id_of(&v))).await;
    assert_eq!(m["reason"], "opted_out");
    let (_, v) = post(&d, "/v1/messages", message("09011112222", "notice", "カード発送")).await;
    wait_status(&d, &id_of(&v), T, |s| s == "delivered").await;

    // Any other text is an ordinary reply; removing the opt-out lets campaigns through.
    sim.inject_mo(&MoRequest::new("docomo", "819011112222", "0120000000", "please stop")).unwrap();
    let other = eventually("the second MO webhook", || async {
        hooks
            .all()
            .into_iter()
            .map(|(b, _)| b)
            .find(|b| b["type"] == "mo" && b["text"] == "please stop")
    })
    .await;
    assert_eq!(other["opted_out"], false);
    assert_eq!(call(&d, "DELETE", "/v1/optouts/+819011112222", KEY, Value::Null).await.0, 200);
    let (_, v) = post(&d, "/v1/messages", message("09011112222", "campaign", "セール")).await;
    wait_status(&d, &id_of(&v), T, |s| s == "delivered").await;
    assert_eq!(sim.messages(Some("docomo"), "819011112222").len(), 3, "ack, notice, campaign");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_suppressed_after_its_message_was_queued_is_not_sent() {
    let (sim, d, clock, _dir) = start(&["docomo"], |_| {}, jst("2027-02-01T22:30:00"), "").await;
    let (_, v) = post(&d, "/v1/messages", message("09033330001", "dunning", "督促")).await;
    assert_eq!(v["status"], "held", "{v}");
    let id = id_of(&v);
    let (code, e) = call(
        &d,
        "PUT",
        "/v1/suppressions/090-3333-0001",
        OTHER_KEY,
        json!({"reason": "recycled_number"}),
    )
    .await;
    assert_eq!(
        (code, e["number"].as_str(), e["added_by"].as_str()),
        (200, Some("+819033330001"), Some("checker")),
        "{e}"
    );
    clock.set(jst("2027-02-02T08:00:00"));
    let m = wait_status(&d, &id, T, is_final).await;
    assert_eq!(
        (m["status"].as_str(), m["reason"].as_str()),
        (Some("rejected"), Some("suppressed(recycled_number)")),
        "{m}"
    );
    assert_eq!(m["segment_details"][0]["state"], "queued", "never submitted: {m}");
    assert!(sim.messages(None, "819033330001").is_empty());
    assert_eq!(
        entry(&audit(&d, &id).await, "rejected_before_send")["detail"]["reason"],
        "suppressed(recycled_number)"
    );
    // Checked at accept too, for every class.
    let (_, v) = post(&d, "/v1/messages", message("09033330001", "otp", "123456")).await;
    assert_eq!(v["status"], "rejected", "{v}");

    // Bad input names the field; unknown numbers are 404.
    let (code, v) =
        call(&d, "PUT", "/v1/suppressions/09033330002", KEY, json!({"reason": "Recycled Number"}))
            .await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("reason")), "{v}");
    let (code, v) = call(&d, "PUT", "/v1/suppressions/0312345678", KEY, Value::Null).await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("number")), "{v}");
    assert_eq!(get(&d, "/v1/suppressions/09033330009").await.0, 404);

    // A Shift_JIS import: good rows stored, the bad one reported by line.
    let csv = sjis("number,reason,備考\r\n090-3333-0002,recycled_number,他人接続\r\n09033330003,,\r\n0312345678,operator,固定電話\r\n");
    let (code, v) =
        request_bytes(d.addr(), "POST", "/v1/suppressions:import", Some(KEY), &[], &csv).await;
    assert_eq!((code, v["imported"].as_u64()), (200, Some(2)), "{v}");
    assert_eq!(v["errors"][0]["line"], 4, "{v}");
    let (_, e) = get(&d, "/v1/suppressions/+819033330003").await;
    assert_eq!(e["reason"], "operator", "the default reason: {e}");
    assert_eq!(call(&d, "DELETE", "/v1/suppressions/09033330002", KEY, Value::Null).await.0, 200);
    assert_eq!(call(&d, "DELETE", "/v1/suppressions/09033330002", KEY, Value::Null).await.0, 404);
    let (code, v) =
        request(d.addr(), "POST", "/v1/optouts:import", Some(KEY), &[], "phone\n09011112222\n")
            .await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("csv")), "{v}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_billing_report_counts_what_the_simulator_billed_for_delivered_messages() {
    let recycled = |c: &mut smpp_sim::SimConfig| {
        for carrier in &mut c.carriers {
            carrier.handsets.recycled = vec!["819044440099".into()];
        }
    };
    let carriers = ["au", "docomo", "rakuten", "softbank"];
    let (sim, d, clock, _dir) = start(&carriers, recycled, jst("2027-02-01T10:00:00"), "").await;
    let long = "ご利用代金のお支払いについてのお知らせです。"
        .repeat(10)
        .chars()
        .take(150)
        .collect::<String>();
    let mut messages: Vec<Value> = (0..16)
        .map(|i| {
            let class = if i % 2 == 0 { "otp" } else { "notice" };
            let mut m = message(
                &format!("0904444{:04}", i),
                class,
                if i % 3 == 0 { &long } else { "short" },
            );
            m["carrier"] = json!(carriers[i % 4]);
            m
        })
        .collect();
    let mut undeliverable = message("09044440099", "notice", &long);
    undeliverable["carrier"] = json!("docomo");
    messages.push(undeliverable);
    let mut expiring = message("09044440098", "otp", "later");
    expiring["send_at"] = json!("2027-02-01T11:00:00+09:00");
    expiring["deadline"] = json!("2027-02-01T12:00:00+09:00");
    expiring["carrier"] = json!("au");
    messages.push(expiring);
    call(&d, "PUT", "/v1/suppressions/09044440097", KEY, Value::Null).await;
    let mut rejected = message("09044440097", "campaign", "sale");
    rejected["carrier"] = json!("au");
    messages.push(rejected);
    let (code, v) = post(&d, "/v1/messages:batch", json!({ "messages": messages })).await;
    assert_eq!(code, 202, "{v}");
    let ids: Vec<String> =
        v["results"].as_array().unwrap().iter().map(|r| id_of(&r["result"])).collect();
    clock.set(jst("2027-02-01T13:00:00"));
    let mut undelivered_billable = 0;
    for id in &ids {
        let m = wait_status(&d, id, T, is_final).await;
        if m["status"] == "undeliverable" {
            undelivered_billable += m["billable"].as_u64().unwrap();
        }
    }
    let (code, r) = get(
        &d,
        "/v1/reports/billing?from=2027-02-01T00:00:00%2B09:00&to=2027-02-02T00:00:00+09:00",
    )
    .await;
    assert_eq!(code, 200, "{r}");
    let rows = r["rows"].as_array().unwrap();
    let sum = |carrier: &str, col: &str| -> u64 {
        rows.iter().filter(|x| x["carrier"] == carrier).map(|x| x[col].as_u64().unwrap()).sum()
    };
    let stats = sim.stats();
    for c in carriers {
        let s = stats.carrier(c);
        let extra = if c == "docomo" { undelivered_billable } else { 0 };
        assert_eq!(
            sum(c, "billable_segments") + extra,
            s.billable_segments,
            "billable on {c}: {r}"
        );
        assert_eq!(sum(c, "segments_submitted"), s.submits, "segments on {c}");
    }
    assert!(undelivered_billable > 0);
    assert_eq!(sum("docomo", "undeliverable"), 1);
    let au_otp = rows.iter().find(|x| x["carrier"] == "au" && x["class"] == "otp").unwrap();
    assert_eq!(au_otp["expired"], 1, "{au_otp}");
    assert_eq!(r["total"]["rejected"], 1, "{r}");
    assert_eq!(r["total"]["messages"], 19);
    assert_eq!(r["total"]["delivered"], 16);

    let q = "/v1/reports/billing?from=2027-02-01T00:00:00Z&to=2027-02-02T00:00:00Z";
    let (code, csv) = get(&d, &format!("{q}&format=csv")).await;
    assert_eq!(code, 200);
    let csv = csv.as_str().unwrap().to_string();
    assert!(
        csv.starts_with("carrier,class,messages,segments_submitted,billable_segments,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), rows.len() + 1, "{csv}");
    let (_, by_accept) =
        request(d.addr(), "GET", q, Some(KEY), &[("accept", "text/csv")], "").await;
    assert_eq!(by_accept.as_str(), Some(csv.as_str()));
    let (code, v) = get(&d, "/v1/reports/billing?to=2027-02-02T00:00:00Z").await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("from")), "{v}");
    let (code, v) =
        get(&d, "/v1/reports/billing?from=2027-02-02T00:00:00Z&to=2027-02-01T00:00:00Z").await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("to")), "{v}");
    d.shutdown().await;
    sim.shutdown().await;
}
