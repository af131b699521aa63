//! The daemon end to end through its HTTP API, against the simulated carriers.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const T: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_goes_api_to_smsc_to_receipt_to_signed_webhook() {
    let sim = start_sim(sim_config(&["docomo"])).await;
    let dir = tempfile::tempdir().unwrap();
    let (hook_addr, hooks) = webhook_receiver(1).await; // the first callback fails: retried
    let d =
        start_daemon(&daemon_toml(&sim, &dir.path().join("db"), &webhook_toml(hook_addr))).await;

    let mut m = message("090-1234-5678", "otp", "Your code is 123456");
    m["client_ref"] = json!("otp-1");
    let (code, v) = post(&d, "/v1/messages", m).await;
    assert_eq!(code, 202, "{v}");
    assert_eq!(v["carrier"], "docomo");
    assert_eq!(v["segments"], 1);
    let id = v["id"].as_str().unwrap().to_string();

    let done = wait_status(&d, &id, T, |s| s == "delivered").await;
    let seg = &done["segment_details"][0];
    assert_eq!(seg["state"], "acked");
    assert_eq!(seg["receipt_state"], "DELIVRD");
    assert!(seg["message_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(sim.messages(None, "819012345678").len(), 1, "the handset got it once");

    let hook = within(T, async {
        loop {
            if let Some(h) = hooks.all().into_iter().find(|(b, _)| b["status"] == "delivered") {
                return h;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(hook.0["id"], id.as_str());
    assert_eq!(hook.0["client_ref"], "otp-1");
    let (body, sig) = hook;
    let t: i64 = sig.split(',').next().unwrap().trim_start_matches("t=").parse().unwrap();
    // The receiver recomputes the HMAC over "t.body" with the shared secret.
    let raw = body.to_string();
    let expect = smppd::webhook::signature(SECRET.as_bytes(), t, raw.as_bytes());
    let ours = smppd::webhook::signature(
        SECRET.as_bytes(),
        t,
        serde_json::to_string(&body).unwrap().as_bytes(),
    );
    assert_eq!(expect, ours);
    assert!(sig.starts_with(&format!("t={t},v1=")) && sig.len() > 60, "{sig}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_requests_return_the_same_message_and_send_once() {
    let sim = start_sim(sim_config(&["docomo"])).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
    let body = message("+819011112222", "fraud_alert", "card shipped").to_string();
    let headers = [("idempotency-key", "req-42")];
    let (c1, a) = request(d.addr(), "POST", "/v1/messages", Some(KEY), &headers, &body).await;
    let (c2, b) = request(d.addr(), "POST", "/v1/messages", Some(KEY), &headers, &body).await;
    assert_eq!((c1, c2), (202, 202));
    assert_eq!(a["id"], b["id"], "same key, same message");
    let mut with_ref = message("+819011112222", "otp", "code 1");
    with_ref["client_ref"] = json!("ref-7");
    let (_, x) = post(&d, "/v1/messages", with_ref.clone()).await;
    let (_, y) = post(&d, "/v1/messages", with_ref).await;
    assert_eq!(x["id"], y["id"], "client_ref is the idempotency key without a header");
    for id in [a["id"].as_str().unwrap(), x["id"].as_str().unwrap()] {
        wait_status(&d, id, T, is_final).await;
    }
    assert_eq!(sim.messages(None, "819011112222").len(), 2, "one message per idempotency key");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_4xx_naming_the_field() {
    let sim = start_sim(sim_config(&["docomo"])).await;
    let dir = tempfile::tempdir().unwrap();
    let toml = daemon_toml(&sim, &dir.path().join("db"), "")
        .replace("shutdown_grace_secs = 5", "shutdown_grace_secs = 5\nmax_batch = 3");
    let d = start_daemon(&toml).await;
    let cases: Vec<(Value, &str, &str)> = vec![
        (message("03-1234-5678", "otp", "x"), "to", "mobile"),
        (message("090-1234-567", "otp", "x"), "to", "wrong length"),
        (message("09012345678", "otp", ""), "text", "empty"),
        (message("09012345678", "otp", &"あ".repeat(661)), "text", "661"),
        (message("09012345678", "promo", "x"), "class", "unknown message class"),
        (json!({"to": "09012345678", "from": "CARDCO", "text": "x"}), "class", "required"),
        (
            json!({"to": 9012345678u64, "from": "CARDCO", "text": "x", "class": "otp"}),
            "to",
            "string",
        ),
        (
            json!({"to": "09012345678", "from": "CARDCO", "text": "x", "class": "otp", "colour": "red"}),
            "colour",
            "unknown field",
        ),
        (
            json!({"to": "09012345678", "from": "CARDCO", "text": "x", "class": "otp", "send_at": "tomorrow"}),
            "send_at",
            "RFC 3339",
        ),
    ];
    for (body, field, reason) in cases {
        let (code, v) = post(&d, "/v1/messages", body.clone()).await;
        assert_eq!(code, 400, "{body} → {v}");
        assert_eq!(v["error"]["field"], field, "{body} → {v}");
        assert!(v["error"]["reason"].as_str().unwrap().contains(reason), "{body} → {v}");
    }
    let (code, v) = request(d.addr(), "POST", "/v1/messages", Some(KEY), &[], "{\"to\":").await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("body")), "{v}");
    let ok = message("09012345678", "otp", "x").to_string();
    assert_eq!(request(d.addr(), "POST", "/v1/messages", None, &[], &ok).await.0, 401);
    assert_eq!(
        request(d.addr(), "POST", "/v1/messages", Some("wrong-key-0123456789"), &[], &ok).await.0,
        403
    );
    let four = json!({"messages": vec![message("09012345678", "otp", "x"); 4]});
    let (code, v) = post(&d, "/v1/messages:batch", four).await;
    assert_eq!(code, 413, "{v}");
    let mixed = json!({"messages": [message("09012345678", "otp", "ok"), message("0312345678", "otp", "bad")]});
    let (code, v) = post(&d, "/v1/messages:batch", mixed).await;
    assert_eq!(code, 202, "{v}");
    assert_eq!((v["accepted"].as_u64(), v["rejected"].as_u64()), (Some(1), Some(1)), "{v}");
    assert_eq!(v["results"][1]["error"]["field"], "messages[1].to");
    let (code, _) = get(&d, "/v1/messages/999999").await;
    assert_eq!(code, 404);
    let (code, v) = get(&d, "/v1/messages/abc").await;
    assert_eq!((code, v["error"]["field"].as_str()), (400, Some("id")));
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_answers_503_with_retry_after() {
    let sim = start_sim(sim_config(&["docomo"])).await;
    let dir = tempfile::tempdir().unwrap();
    let toml = daemon_toml(&sim, &dir.path().join("db"), "")
        .replace("shutdown_grace_secs = 5", "shutdown_grace_secs = 5\nmax_backlog = 2");
    let d = start_daemon(&toml).await;
    let three = json!({"messages": vec![message("09012345678", "otp", "x"); 3]});
    let (code, v) = post(&d, "/v1/messages:batch", three).await;
    assert_eq!(code, 503, "{v}");
    assert!(v["error"]["reason"].as_str().unwrap().contains("bound"), "{v}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_across_four_carriers_is_segmented_and_billed_like_the_carriers_count() {
    let sim = start_sim(sim_config(&["au", "docomo", "rakuten", "softbank"])).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
    let long = "ご利用代金のお支払いについてのお知らせです。"
        .repeat(20)
        .chars()
        .take(300)
        .collect::<String>();
    let carriers = ["docomo", "au", "softbank", "rakuten"];
    let messages: Vec<Value> = (0..40)
        .map(|i| {
            let mut m = message(
                &format!("0901000{:04}", i),
                "otp",
                if (i / 4) % 2 == 0 { &long } else { "short" },
            );
            m["carrier"] = json!(carriers[i % 4]);
            m
        })
        .collect();
    let (code, v) = post(&d, "/v1/messages:batch", json!({ "messages": messages })).await;
    assert_eq!(code, 202, "{v}");
    let mut ours = std::collections::BTreeMap::<String, u64>::new();
    for r in v["results"].as_array().unwrap() {
        let id = r["result"]["id"].as_str().unwrap();
        let m = wait_status(&d, id, T, is_final).await;
        assert_eq!(m["status"], "delivered", "{m}");
        *ours.entry(m["carrier"].as_str().unwrap().to_string()).or_default() +=
            m["billable"].as_u64().unwrap();
    }
    let stats = sim.stats();
    for c in carriers {
        assert_eq!(ours[c], stats.carrier(c).billable_segments, "billable segments on {c}");
    }
    // 300 UCS-2 characters: docomo 5 parts (66/part), au/rakuten 5 (67/part), softbank 1 PDU.
    assert_eq!(stats.carrier("softbank").submits, 10, "softbank sends one PDU per message");
    assert_eq!(stats.carrier("docomo").submits, 5 * 5 + 5);
    assert_eq!(stats.carrier("au").submits, 5 * 5 + 5);
    let (code, binds) = get(&d, "/v1/binds").await;
    assert_eq!(code, 200);
    assert_eq!(binds["accounts"].as_array().unwrap().len(), 4, "{binds}");
    assert_eq!(binds["accounts"][0]["binds"][0]["bound"], true, "{binds}");
    let (code, metrics) = request(d.addr(), "GET", "/metrics", None, &[], "").await;
    assert_eq!(code, 200);
    let text = metrics.as_str().unwrap().to_string();
    assert!(
        text.contains(
            "smppd_submits_total{account=\"docomo-1\",carrier=\"docomo\",status=\"ok\"} 30"
        ),
        "{text}"
    );
    assert!(text.contains("smppd_delivery_seconds_count{carrier=\"au\"}"), "{text}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_message_is_held_and_can_be_cancelled_before_it_goes() {
    let sim = start_sim(sim_config(&["docomo"])).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
    let mut m = message("09012340000", "otp", "later");
    m["send_at"] = json!(smppd::clock::rfc3339(smppd::clock::now_ms() + 3_600_000));
    let (code, v) = post(&d, "/v1/messages", m).await;
    assert_eq!((code, v["status"].as_str()), (202, Some("held")), "{v}");
    let id = v["id"].as_str().unwrap();
    let (code, c) =
        request(d.addr(), "DELETE", &format!("/v1/messages/{id}"), Some(KEY), &[], "").await;
    assert_eq!((code, c["status"].as_str()), (200, Some("cancelled")), "{c}");
    let (code, _) =
        request(d.addr(), "DELETE", &format!("/v1/messages/{id}"), Some(KEY), &[], "").await;
    assert_eq!(code, 409, "a cancelled message cannot be cancelled again");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(sim.messages(None, "819012340000").is_empty());
    // A message whose deadline is already over is refused, never sent.
    let mut late = message("09012340001", "otp", "too late");
    late["deadline"] = json!(smppd::clock::rfc3339(smppd::clock::now_ms() - 1000));
    let (code, v) = post(&d, "/v1/messages", late).await;
    assert_eq!((code, v["status"].as_str()), (202, Some("rejected")), "{v}");
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_health_and_readiness_are_served() {
    let sim = start_sim(sim_config(&["docomo"])).await;
    let dir = tempfile::tempdir().unwrap();
    let d = start_daemon(&daemon_toml(&sim, &dir.path().join("db"), "")).await;
    let (code, doc) = request(d.addr(), "GET", "/openapi.json", None, &[], "").await;
    assert_eq!(code, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/v1/messages:batch"]["post"].is_object());
    assert_eq!(request(d.addr(), "GET", "/healthz", None, &[], "").await.0, 200);
    assert_eq!(request(d.addr(), "GET", "/readyz", None, &[], "").await.0, 200);
    sim.set_fault(&smpp_sim::FaultRequest::all(smpp_sim::Fault::RefuseBinds {
        ms: 60_000,
        status: smpp_codec::CommandStatus::ESME_RBINDFAIL,
    }))
    .ok();
    sim.set_fault(&smpp_sim::FaultRequest::all(smpp_sim::Fault::Drop)).unwrap();
    within(T, async {
        while request(d.addr(), "GET", "/readyz", None, &[], "").await.0 != 503 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    d.shutdown().await;
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tx_rx_binds_carry_submits_and_receipts_and_mos_reach_the_webhook_with_their_thread() {
    let sim = start_sim(sim_config(&["softbank"])).await;
    let dir = tempfile::tempdir().unwrap();
    let (hook_addr, hooks) = webhook_receiver(0).await;
    let toml = daemon_toml(&sim, &dir.path().join("db"), &webhook_toml(hook_addr))
        .replace("window = 20", "window = 20\nbind_mode = \"tx+rx\"");
    let d = start_daemon(&toml).await;
    let (_, binds) = get(&d, "/v1/binds").await;
    let kinds: Vec<&str> = binds["accounts"][0]["binds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["transmitter", "receiver"], "{binds}");

    let mut alert = message(
        "+819012345000",
        "fraud_alert",
        "120,000円のご利用がありました。心当たりがなければ1を返信してください。",
    );
    alert["client_ref"] = json!("fraud-9");
    let (_, v) = post(&d, "/v1/messages", alert).await;
    let id = v["id"].as_str().unwrap().to_string();
    wait_status(&d, &id, T, |s| s == "delivered").await;

    // The cardholder answers "1": the MO is linked to the alert it answers.
    let mo = smpp_sim::MoRequest {
        carrier: None,
        account: None,
        from: "819012345000".into(),
        to: "CARDCO".into(),
        text: "1".into(),
        ucs2: false,
    };
    sim.inject_mo(&mo).unwrap();
    let hook = within(T, async {
        loop {
            if let Some((b, _)) = hooks.all().into_iter().find(|(b, _)| b["type"] == "mo") {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(hook["text"], "1", "{hook}");
    assert_eq!(hook["in_reply_to"]["id"], id.as_str(), "{hook}");
    assert_eq!(hook["in_reply_to"]["client_ref"], "fraud-9", "{hook}");
    d.shutdown().await;
    sim.shutdown().await;
}
