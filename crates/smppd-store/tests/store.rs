//! The [`Store`] contract, checked on [`SqliteStore`] with real files (and reopens where the
//! point is durability).

mod support;

use std::path::Path;

use serde_json::Value;
use smppd_store::{
    Accepted, CancelOutcome, Claimed, MessageId, MessageStatus, Millis, MoIn, NewMessage,
    ReceiptIn, ReceiptOutcome, SegmentState, SqliteOptions, SqliteStore, Store, SubmitOutcome,
    SubmitResult, UnknownDecision,
};

const T0: Millis = 1_700_000_000_000;
const MINUTE: Millis = 60_000;
const ACCOUNT: &str = "docomo-1";

fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(SqliteOptions::new(dir.join("smppd.db"))).expect("open store")
}

fn message(to: &str) -> NewMessage {
    NewMessage {
        api_key: "issuer-a".into(),
        idempotency_key: None,
        client_ref: Some(format!("ref-{to}")),
        to: to.into(),
        from: "CARDCO".into(),
        text: "ご利用ありがとうございます".into(),
        class: "otp".into(),
        carrier: "docomo".into(),
        segments: 1,
        billable: 1,
        status: MessageStatus::Queued,
        not_before: T0,
        deadline: None,
        dlr: true,
        priority: 0,
        reason: None,
        created_at: T0,
        batch_id: None,
    }
}

fn accept_one(store: &SqliteStore, m: NewMessage) -> MessageId {
    store.accept(&[m]).expect("accept")[0].id
}

fn claim(store: &SqliteStore, now: Millis) -> Vec<Claimed> {
    store.claim("docomo", ACCOUNT, now, 100).expect("claim")
}

fn claimed_ids(store: &SqliteStore, now: Millis) -> Vec<MessageId> {
    claim(store, now).into_iter().map(|c| c.id).collect()
}

fn result(message: MessageId, segment: u32, outcome: SubmitOutcome, at: Millis) -> SubmitResult {
    SubmitResult { message, segment, account: ACCOUNT.into(), outcome, at, sent_at: at - 20 }
}

fn acked(message: MessageId, segment: u32, smsc_id: &str, at: Millis) -> SubmitResult {
    result(message, segment, SubmitOutcome::Acked { smsc_id: smsc_id.into() }, at)
}

fn receipt_on(account: &str, smsc_id: &str, state: &str, at: Millis) -> ReceiptIn {
    ReceiptIn {
        account: account.into(),
        smsc_id: smsc_id.into(),
        state: state.into(),
        is_final: !matches!(state, "ACCEPTD" | "ENROUTE"),
        delivered: state == "DELIVRD",
        error: (state != "DELIVRD").then(|| "001".to_string()),
        at,
    }
}

fn receipt(smsc_id: &str, state: &str, at: Millis) -> ReceiptIn {
    receipt_on(ACCOUNT, smsc_id, state, at)
}

fn status(store: &SqliteStore, id: MessageId) -> MessageStatus {
    store.message(id).expect("message").expect("message exists").status
}

fn segment_states(store: &SqliteStore, id: MessageId) -> Vec<SegmentState> {
    let view = store.message(id).expect("message").expect("message exists");
    view.segment_details.iter().map(|s| s.state).collect()
}

/// Sends `id` (claimed already) and acks its single segment as `smsc_id`.
fn ack(store: &SqliteStore, id: MessageId, smsc_id: &str, at: Millis) -> Vec<ReceiptOutcome> {
    store.record_submits(&[acked(id, 0, smsc_id, at)], MINUTE).expect("record_submits")
}

fn apply(store: &SqliteStore, r: ReceiptIn) -> ReceiptOutcome {
    store.apply_receipts(&[r]).expect("apply_receipts").remove(0)
}

/// Every webhook due far in the future, parsed, with its kind.
fn webhooks(store: &SqliteStore) -> Vec<(i64, String, Value)> {
    let jobs = store.due_webhooks(Millis::MAX, 10_000).expect("due_webhooks");
    let parse = |p: &str| serde_json::from_str::<Value>(p).expect("webhook payload is JSON");
    jobs.into_iter().map(|j| (j.id, j.kind, parse(&j.payload))).collect()
}

/// Whether a webhook body is about message `id` (ids are JSON strings).
fn names(body: &Value, id: MessageId) -> bool {
    body["id"].as_str().and_then(|s| s.parse::<MessageId>().ok()) == Some(id)
}

fn status_webhooks_for(store: &SqliteStore, id: MessageId) -> Vec<String> {
    webhooks(store)
        .into_iter()
        .filter(|(_, kind, body)| kind == "status" && names(body, id))
        .map(|(_, _, body)| body["status"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn accepted_messages_survive_a_reopen_with_their_queued_segments() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = open(dir.path());
        accept_one(&store, NewMessage { segments: 3, billable: 2, ..message("+819011110001") })
    };
    let store = open(dir.path());
    let view = store.message(id).unwrap().expect("the message is still there");
    assert_eq!(view.status, MessageStatus::Queued);
    assert_eq!(view.api_key, "issuer-a");
    assert_eq!(view.client_ref.as_deref(), Some("ref-+819011110001"));
    assert_eq!((view.segments, view.billable), (3, 2));
    let indexes: Vec<u32> = view.segment_details.iter().map(|s| s.index).collect();
    assert_eq!(indexes, [0, 1, 2]);
    assert!(view.segment_details.iter().all(|s| s.state == SegmentState::Queued));
    assert_eq!(store.backlog().unwrap(), 1);
    assert_eq!(store.message(id + 1).unwrap(), None);
}

#[test]
fn an_idempotency_key_stores_one_message_per_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let keyed = |api_key: &str| NewMessage {
        api_key: api_key.into(),
        idempotency_key: Some("order-42".into()),
        ..message("+819011110002")
    };
    let first = store.accept(&[keyed("issuer-a"), keyed("issuer-a")]).unwrap();
    assert!(!first[0].duplicate);
    assert_eq!(
        first[1],
        Accepted { duplicate: true, ..first[0].clone() },
        "a repeat within one slice returns the first"
    );
    let again = store.accept(&[keyed("issuer-a"), keyed("issuer-b")]).unwrap();
    assert_eq!(again[0], first[1], "a repeat in a later call returns the first");
    assert!(!again[1].duplicate, "another API key may use the same key");
    assert_ne!(again[1].id, first[0].id);
    // Messages without a key are never deduplicated.
    let plain = store.accept(&[message("+819011110002"), message("+819011110002")]).unwrap();
    assert_ne!(plain[0].id, plain[1].id);
    assert_eq!(store.backlog().unwrap(), 4);
}

#[test]
fn claims_follow_priority_then_not_before_then_id_and_never_twice() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let campaign = accept_one(&store, NewMessage { priority: 5, ..message("+8190") });
    let otp_late = accept_one(&store, NewMessage { not_before: T0 + 10, ..message("+8191") });
    let otp_early = accept_one(&store, message("+8192"));
    let otp_early_2 = accept_one(&store, message("+8193"));
    let expired = accept_one(&store, NewMessage { deadline: Some(T0 + 5), ..message("+8194") });
    let other_carrier = accept_one(&store, NewMessage { carrier: "au".into(), ..message("+8195") });
    let held = accept_one(
        &store,
        NewMessage { status: MessageStatus::Held, not_before: T0 + MINUTE, ..message("+8196") },
    );

    let first = store.claim("docomo", ACCOUNT, T0 + 10, 3).unwrap();
    let ids: Vec<_> = first.iter().map(|c| c.id).collect();
    assert_eq!(ids, [otp_early, otp_early_2, otp_late]);
    assert_eq!(first[0].pending, [0]);
    assert_eq!(first[0].to, "+8192");
    assert_eq!(claimed_ids(&store, T0 + 10), [campaign], "claimed ones are not handed out again");
    assert_eq!(claimed_ids(&store, T0 + 10), Vec::<MessageId>::new());
    assert_eq!(status(&store, expired), MessageStatus::Queued, "past its deadline: never claimed");
    assert_eq!(status(&store, other_carrier), MessageStatus::Queued);
    assert_eq!(status(&store, held), MessageStatus::Held);
    assert_eq!(claimed_ids(&store, T0 + MINUTE - 1), Vec::<MessageId>::new());
    assert_eq!(claimed_ids(&store, T0 + MINUTE), [held], "released at not_before");
    assert_eq!(status(&store, held), MessageStatus::Submitting);
    assert_eq!(segment_states(&store, held), [SegmentState::Submitting]);
    let view = store.message(held).unwrap().unwrap();
    assert_eq!(view.segment_details[0].account.as_deref(), Some(ACCOUNT));
}

#[test]
fn a_claim_walks_past_lower_priorities_held_for_later() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let night: Vec<NewMessage> = (0..50)
        .map(|i| NewMessage { not_before: T0 + 8 * 60 * MINUTE, ..message(&format!("+81{i}")) })
        .collect();
    store.accept(&night).unwrap();
    let low = accept_one(&store, NewMessage { priority: 9, ..message("+8199") });
    assert_eq!(claimed_ids(&store, T0), [low]);
}

#[test]
fn submit_results_drive_the_message_status() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ok = accept_one(&store, NewMessage { segments: 2, ..message("+8101") });
    let failed = accept_one(&store, message("+8102"));
    let retried = accept_one(&store, message("+8103"));
    let lost = accept_one(&store, message("+8104"));
    assert_eq!(claim(&store, T0).len(), 4);
    let at = T0 + 100;

    store.record_submits(&[acked(ok, 0, "a1", at)], MINUTE).unwrap();
    assert_eq!(status(&store, ok), MessageStatus::Submitting, "segment 1 is still on the wire");
    let outcomes = store
        .record_submits(
            &[
                acked(ok, 1, "a2", at),
                result(failed, 0, SubmitOutcome::Failed { status: 0xB, retry: false }, at),
                result(retried, 0, SubmitOutcome::Failed { status: 0x8, retry: true }, at),
                result(lost, 0, SubmitOutcome::Unknown, at),
            ],
            MINUTE,
        )
        .unwrap();
    assert!(outcomes.is_empty(), "no receipts were held");

    let view = store.message(ok).unwrap().unwrap();
    assert_eq!(view.status, MessageStatus::Submitted);
    assert_eq!(view.segment_details[1].message_id.as_deref(), Some("a2"));
    assert_eq!(view.segment_details[1].submitted_at, Some(at));

    let view = store.message(failed).unwrap().unwrap();
    assert_eq!(view.status, MessageStatus::Failed);
    assert_eq!(view.reason.as_deref(), Some("submit_sm_resp status 0x0000000B"));
    assert_eq!(view.segment_details[0].submit_status, Some(0xB));
    assert_eq!(view.segment_details[0].state, SegmentState::Failed);

    let view = store.message(retried).unwrap().unwrap();
    assert_eq!(view.status, MessageStatus::Queued);
    assert_eq!(view.not_before, at + MINUTE);
    assert_eq!(view.segment_details[0].state, SegmentState::Queued);
    assert_eq!(claimed_ids(&store, at + MINUTE - 1), Vec::<MessageId>::new());
    assert_eq!(claimed_ids(&store, at + MINUTE), [retried]);

    assert_eq!(status(&store, lost), MessageStatus::Unknown);
    assert_eq!(segment_states(&store, lost), [SegmentState::Unknown]);

    // A repeated result for a segment that is no longer waiting changes nothing.
    store
        .record_submits(
            &[result(ok, 0, SubmitOutcome::Failed { status: 0x45, retry: false }, at)],
            MINUTE,
        )
        .unwrap();
    assert_eq!(status(&store, ok), MessageStatus::Submitted);
    // A late resp for a timed-out segment resolves it.
    store.record_submits(&[acked(lost, 0, "late-1", at + 5000)], MINUTE).unwrap();
    assert_eq!(status(&store, lost), MessageStatus::Submitted);
}

#[test]
fn a_retried_segment_is_resent_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = accept_one(&store, NewMessage { segments: 3, ..message("+8105") });
    assert_eq!(claim(&store, T0)[0].pending, [0, 1, 2]);
    let retry = SubmitOutcome::Failed { status: 0x58, retry: true };
    store
        .record_submits(
            &[acked(id, 0, "s0", T0), result(id, 1, retry, T0), acked(id, 2, "s2", T0)],
            1000,
        )
        .unwrap();
    assert_eq!(status(&store, id), MessageStatus::Queued);
    let again = claim(&store, T0 + 1000);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].pending, [1], "acked segments are not sent twice");
    store.record_submits(&[acked(id, 1, "s1", T0 + 1100)], 1000).unwrap();
    assert_eq!(status(&store, id), MessageStatus::Submitted);
}

#[test]
fn receipts_match_by_normalised_id_per_account() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let hex = accept_one(&store, message("+8111"));
    let hex2 = accept_one(&store, message("+8114"));
    let uuid = accept_one(&store, message("+8112"));
    let upper = accept_one(&store, message("+8113"));
    claim(&store, T0);
    let uuid_id = "74e02ee1-4e2f-4c55-a3c0-0c2c0a3a3b1d";
    store
        .record_submits(
            &[
                acked(hex, 0, "38601fa", T0),
                acked(hex2, 0, "18d0e03a", T0),
                acked(uuid, 0, uuid_id, T0),
                acked(upper, 0, "ABCDEF", T0),
            ],
            MINUTE,
        )
        .unwrap();

    // The submit_sm_resp said hex 38601fa; the receipt text says decimal 0059113978. Until
    // this account's format is learned, only a receipt that has waited may be read across
    // bases, and it takes two to learn.
    assert_eq!(apply(&store, receipt("0059113978", "DELIVRD", T0 + 3000)), ReceiptOutcome::Held);
    assert_eq!(store.sweep_held_receipts(T0 + 3000, 100).unwrap(), []);
    assert_eq!(apply(&store, receipt("0416342074", "DELIVRD", T0 + 3100)), ReceiptOutcome::Held);
    assert_eq!(store.sweep_held_receipts(T0 + 3099, 100).unwrap(), [], "not waited long enough");
    let swept = store.sweep_held_receipts(T0 + 3100, 100).unwrap();
    assert_eq!(
        swept[0],
        ReceiptOutcome::Matched {
            message: hex,
            segment: 0,
            status: MessageStatus::Delivered,
            latency_ms: Some(3020)
        },
        "the first receipt, checked once already, is applied when the format is learned"
    );
    assert!(matches!(swept[1], ReceiptOutcome::Matched { message, .. } if message == hex2));
    assert_eq!(swept.len(), 2);
    let view = store.message(hex).unwrap().unwrap();
    assert_eq!(view.segment_details[0].receipt_state.as_deref(), Some("DELIVRD"));
    assert_eq!(view.segment_details[0].receipt_at, Some(T0 + 3000));
    assert_eq!(
        apply(&store, receipt("0059113978", "DELIVRD", T0 + 4000)),
        ReceiptOutcome::Duplicate { message: hex, segment: 0 },
        "learned: read across bases at once"
    );

    let other_account = receipt_on("docomo-2", &uuid_id.to_uppercase(), "DELIVRD", T0);
    assert_eq!(apply(&store, other_account), ReceiptOutcome::Held, "ids are per account");
    assert!(matches!(
        apply(&store, receipt(&uuid_id.to_uppercase(), "DELIVRD", T0)),
        ReceiptOutcome::Matched { message, status: MessageStatus::Delivered, .. } if message == uuid
    ));

    assert!(matches!(
        apply(&store, receipt("abcdef", "UNDELIV", T0)),
        ReceiptOutcome::Matched { message, status: MessageStatus::Undeliverable, .. }
            if message == upper
    ));
    let view = store.message(upper).unwrap().unwrap();
    assert_eq!(view.reason.as_deref(), Some("receipt UNDELIV (err 001)"));
    assert_eq!(apply(&store, receipt("ffffff", "DELIVRD", T0)), ReceiptOutcome::Held);
}

#[test]
fn a_multipart_message_is_delivered_only_when_every_segment_is() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let whole = accept_one(&store, NewMessage { segments: 2, ..message("+8121") });
    let broken = accept_one(&store, NewMessage { segments: 2, ..message("+8122") });
    claim(&store, T0);
    store
        .record_submits(
            &[
                acked(whole, 0, "1001", T0),
                acked(whole, 1, "1002", T0),
                acked(broken, 0, "1003", T0),
                acked(broken, 1, "1004", T0),
            ],
            MINUTE,
        )
        .unwrap();
    let outcomes = store
        .apply_receipts(&[
            receipt("1001", "ENROUTE", T0 + 10),
            receipt("1001", "DELIVRD", T0 + 20),
            receipt("1003", "DELIVRD", T0 + 20),
        ])
        .unwrap();
    let statuses: Vec<_> = outcomes
        .iter()
        .map(|o| match o {
            ReceiptOutcome::Matched { status, latency_ms, .. } => (*status, latency_ms.is_some()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (MessageStatus::Submitted, false),
            (MessageStatus::Submitted, true),
            (MessageStatus::Submitted, true)
        ]
    );
    assert_eq!(
        apply(&store, receipt("1002", "DELIVRD", T0 + 30)),
        ReceiptOutcome::Matched {
            message: whole,
            segment: 1,
            status: MessageStatus::Delivered,
            latency_ms: Some(50)
        }
    );
    assert!(matches!(
        apply(&store, receipt("1004", "EXPIRED", T0 + 30)),
        ReceiptOutcome::Matched { status: MessageStatus::Undeliverable, .. }
    ));
    assert_eq!(status(&store, broken), MessageStatus::Undeliverable);
}

#[test]
fn the_learned_id_format_outlives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        let a = accept_one(&store, message("+8131"));
        let b = accept_one(&store, message("+8132"));
        claim(&store, T0);
        store
            .record_submits(&[acked(a, 0, "38601fa", T0), acked(b, 0, "18d0e03a", T0)], MINUTE)
            .unwrap();
        let outcomes = store
            .apply_receipts(&[
                receipt("0059113978", "DELIVRD", T0),
                receipt("0416342074", "DELIVRD", T0),
            ])
            .unwrap();
        assert_eq!(outcomes, [ReceiptOutcome::Held, ReceiptOutcome::Held]);
        assert_eq!(store.sweep_held_receipts(T0, 100).unwrap().len(), 2, "learned and matched");
    }
    let store = open(dir.path());
    let hex_ten = accept_one(&store, message("+8133"));
    let text_ten = accept_one(&store, message("+8134"));
    claim(&store, T0);
    store
        .record_submits(&[acked(hex_ten, 0, "10", T0), acked(text_ten, 0, "16", T0)], MINUTE)
        .unwrap();
    // "16" is the same text as text_ten's id, but this account writes receipts in decimal for
    // hex resp ids, and hex 10 is 16.
    assert!(matches!(
        apply(&store, receipt("16", "DELIVRD", T0)),
        ReceiptOutcome::Matched { message, .. } if message == hex_ten
    ));
}

#[test]
fn a_configured_id_format_applies_at_once_and_auto_forgets_it_but_not_a_learned_one() {
    use smpp_dlr::msgid::ReadingPair;
    let dir = tempfile::tempdir().unwrap();
    let hex_dec = ReadingPair::from_name("hex_resp_decimal_receipt");
    {
        let store = open(dir.path());
        store.configure_id_format(ACCOUNT, hex_dec).unwrap();
        store.configure_id_format("docomo-2", None).unwrap();
        let id = accept_one(&store, message("+8171"));
        claim(&store, T0);
        ack(&store, id, "38601fa", T0);
        let outcome = apply(&store, receipt("0059113978", "DELIVRD", T0 + 1));
        assert!(matches!(outcome, ReceiptOutcome::Matched { message, .. } if message == id));
    }
    // The configuration says `auto` again: the configured pair is forgotten.
    let store = open(dir.path());
    store.configure_id_format(ACCOUNT, None).unwrap();
    let id = accept_one(&store, message("+8172"));
    claim(&store, T0);
    ack(&store, id, "18d0e03a", T0);
    assert_eq!(apply(&store, receipt("0416342074", "DELIVRD", T0 + 1)), ReceiptOutcome::Held);
    // A learned pair (two receipts read across bases after their wait) is kept by `auto`.
    let other = accept_one(&store, message("+8173"));
    claim(&store, T0);
    ack(&store, other, "6aad5", T0);
    assert_eq!(apply(&store, receipt("436949", "DELIVRD", T0 + 2)), ReceiptOutcome::Held);
    assert_eq!(store.sweep_held_receipts(T0 + 2, 10).unwrap().len(), 2);
    store.configure_id_format(ACCOUNT, None).unwrap();
    drop(store);
    let store = open(dir.path());
    let last = accept_one(&store, message("+8174"));
    claim(&store, T0);
    ack(&store, last, "10", T0);
    let outcome = apply(&store, receipt("16", "DELIVRD", T0 + 3));
    assert!(matches!(outcome, ReceiptOutcome::Matched { message, .. } if message == last));
}

#[test]
fn an_early_receipt_is_held_on_disk_and_matched_when_the_ack_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let store = open(dir.path());
        let id = accept_one(&store, message("+8141"));
        claim(&store, T0);
        assert_eq!(apply(&store, receipt("0059113978", "DELIVRD", T0 + 50)), ReceiptOutcome::Held);
        id
    };
    let store = open(dir.path());
    // The crash left it submitting; recover must not be needed for the receipt itself.
    let outcomes = ack(&store, id, "59113978", T0 + 40);
    assert_eq!(
        outcomes,
        [ReceiptOutcome::Matched {
            message: id,
            segment: 0,
            status: MessageStatus::Delivered,
            latency_ms: Some(30)
        }]
    );
    assert_eq!(status(&store, id), MessageStatus::Delivered);
    assert_eq!(status_webhooks_for(&store, id), ["submitted", "delivered"]);
    // The held receipt was consumed: another ack under the same id finds nothing.
    let other = accept_one(&store, message("+8142"));
    claim(&store, T0);
    assert!(ack(&store, other, "59113978", T0 + 60).is_empty());
    assert_eq!(status(&store, other), MessageStatus::Submitted);
}

#[test]
fn held_receipts_are_forgotten_after_their_retention_and_no_sooner() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert_eq!(apply(&store, receipt("old-1", "DELIVRD", T0)), ReceiptOutcome::Held);
    assert_eq!(apply(&store, receipt("old-2", "DELIVRD", T0 + 1)), ReceiptOutcome::Held);
    assert_eq!(apply(&store, receipt("new-1", "DELIVRD", T0 + MINUTE)), ReceiptOutcome::Held);
    assert_eq!(store.purge_held_receipts(T0 + MINUTE, 1).unwrap(), 1, "at most the limit");
    assert_eq!(store.purge_held_receipts(T0 + MINUTE, 100).unwrap(), 1);
    assert_eq!(store.purge_held_receipts(T0 + MINUTE, 100).unwrap(), 0);
    let ids: Vec<MessageId> =
        ["+8161", "+8162"].iter().map(|to| accept_one(&store, message(to))).collect();
    claim(&store, T0);
    assert!(ack(&store, ids[0], "old-2", T0 + 2 * MINUTE).is_empty(), "forgotten");
    let outcomes = ack(&store, ids[1], "new-1", T0 + 2 * MINUTE);
    assert!(matches!(outcomes[..], [ReceiptOutcome::Matched { message, .. }] if message == ids[1]));
}

#[test]
fn recovery_requeues_resendable_classes_and_marks_the_rest_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (otp, dunning) = {
        let store = open(dir.path());
        let otp = accept_one(&store, NewMessage { segments: 2, ..message("+8151") });
        let dunning =
            accept_one(&store, NewMessage { class: "dunning".into(), ..message("+8152") });
        assert_eq!(claim(&store, T0).len(), 2);
        store.record_submits(&[acked(otp, 0, "x1", T0)], MINUTE).unwrap();
        (otp, dunning)
    };
    let store = open(dir.path());
    let recovery = store.recover(T0 + MINUTE, &|class| class == "otp").unwrap();
    assert_eq!((recovery.requeued, recovery.unknown), (1, 1));
    assert_eq!(status(&store, otp), MessageStatus::Queued);
    assert_eq!(status(&store, dunning), MessageStatus::Unknown);
    assert_eq!(segment_states(&store, dunning), [SegmentState::Unknown]);
    let again = claim(&store, T0 + MINUTE);
    assert_eq!(again.len(), 1, "the unknown message is not claimable");
    assert_eq!((again[0].id, again[0].pending.as_slice()), (otp, &[1][..]));
    assert_eq!(status_webhooks_for(&store, dunning), ["unknown"]);

    assert_eq!(
        store.resolve_unknown(otp, UnknownDecision::Resend, T0).unwrap(),
        None,
        "only unknown messages are resolved"
    );
    assert_eq!(
        store.resolve_unknown(dunning, UnknownDecision::Resend, T0 + 2 * MINUTE).unwrap(),
        Some(MessageStatus::Queued)
    );
    let resent = claim(&store, T0 + 2 * MINUTE);
    assert_eq!(resent.iter().map(|c| c.id).collect::<Vec<_>>(), [dunning]);
    store.record_submits(&[result(dunning, 0, SubmitOutcome::Unknown, T0)], MINUTE).unwrap();
    assert_eq!(
        store.resolve_unknown(dunning, UnknownDecision::Abandon, T0 + 3 * MINUTE).unwrap(),
        Some(MessageStatus::Failed)
    );
    let view = store.message(dunning).unwrap().unwrap();
    assert_eq!(view.reason.as_deref(), Some("abandoned by operator"));
    assert_eq!(view.segment_details[0].state, SegmentState::Failed);
}

#[test]
fn only_waiting_messages_can_be_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let queued = accept_one(&store, message("+8161"));
    let held = accept_one(&store, NewMessage { status: MessageStatus::Held, ..message("+8162") });
    assert_eq!(store.cancel(queued, T0).unwrap(), CancelOutcome::Cancelled);
    assert_eq!(store.cancel(held, T0).unwrap(), CancelOutcome::Cancelled);
    assert_eq!(claimed_ids(&store, T0 + MINUTE), Vec::<MessageId>::new());
    assert_eq!(status(&store, queued), MessageStatus::Cancelled);
    assert_eq!(status_webhooks_for(&store, queued), ["cancelled"]);

    let sent = accept_one(&store, message("+8163"));
    claim(&store, T0);
    ack(&store, sent, "c1", T0);
    assert_eq!(
        store.cancel(sent, T0).unwrap(),
        CancelOutcome::NotCancellable(MessageStatus::Submitted)
    );
    assert_eq!(
        store.cancel(queued, T0).unwrap(),
        CancelOutcome::NotCancellable(MessageStatus::Cancelled)
    );
    assert_eq!(store.cancel(sent + 100, T0).unwrap(), CancelOutcome::NotFound);
    assert_eq!(store.backlog().unwrap(), 0);
}

#[test]
fn waiting_messages_past_their_deadline_expire() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let soon = accept_one(&store, NewMessage { deadline: Some(T0 + 10), ..message("+8171") });
    let held = accept_one(
        &store,
        NewMessage {
            status: MessageStatus::Held,
            deadline: Some(T0 + 10),
            not_before: T0 + MINUTE,
            ..message("+8172")
        },
    );
    let later = accept_one(&store, NewMessage { deadline: Some(T0 + MINUTE), ..message("+8173") });
    let sending = accept_one(
        &store,
        NewMessage { deadline: Some(T0 + 10), priority: -1, ..message("+8174") },
    );
    assert_eq!(store.claim("docomo", ACCOUNT, T0, 1).unwrap()[0].id, sending);

    assert_eq!(store.expire(T0 + 9).unwrap(), 0);
    assert_eq!(store.expire(T0 + 10).unwrap(), 2);
    assert_eq!(status(&store, soon), MessageStatus::Expired);
    assert_eq!(status(&store, held), MessageStatus::Expired);
    assert_eq!(status(&store, later), MessageStatus::Queued);
    assert_eq!(status(&store, sending), MessageStatus::Submitting, "already on the wire");
    assert_eq!(store.expire(T0 + 10).unwrap(), 0, "expired once");
    let expired_hooks =
        webhooks(&store).into_iter().filter(|(_, _, body)| body["status"] == "expired").count();
    assert_eq!(expired_hooks, 2);
}

#[test]
fn an_mo_answers_the_last_message_sent_to_its_sender_within_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let older = accept_one(&store, message("+819000000001"));
    let newer = accept_one(
        &store,
        NewMessage { created_at: T0 + MINUTE, not_before: T0, ..message("+819000000001") },
    );
    let unsent = accept_one(
        &store,
        NewMessage {
            created_at: T0 + 2 * MINUTE,
            not_before: T0 + 60 * MINUTE,
            ..message("+819000000001")
        },
    );
    claim(&store, T0 + MINUTE);
    store
        .record_submits(&[acked(older, 0, "m1", T0), acked(newer, 0, "m2", T0 + MINUTE)], MINUTE)
        .unwrap();
    let mo = |at: Millis| MoIn {
        account: ACCOUNT.into(),
        carrier: "docomo".into(),
        from: "+819000000001".into(),
        to: "CARDCO".into(),
        text: "STOP".into(),
        at,
        opt_out: false,
        reply: None,
    };
    let window = 10 * MINUTE;
    let recorded =
        store.record_mos(&[mo(T0 + 5 * MINUTE), mo(T0 + MINUTE + window + 1)], window).unwrap();
    assert_eq!(recorded[0].in_reply_to, Some(newer), "the latest sent one, not the unsent");
    assert_ne!(recorded[0].in_reply_to, Some(unsent));
    assert_eq!(recorded[1].in_reply_to, None, "beyond the window");

    let mos: Vec<Value> =
        webhooks(&store).into_iter().filter(|(_, k, _)| k == "mo").map(|(_, _, b)| b).collect();
    assert_eq!(mos.len(), 2);
    assert_eq!(mos[0]["type"], "mo");
    assert_eq!(mos[0]["id"], recorded[0].id.to_string());
    assert_eq!(mos[0]["from"], "+819000000001");
    assert_eq!(mos[0]["text"], "STOP");
    assert_eq!(mos[0]["in_reply_to"]["id"], newer.to_string());
    assert_eq!(mos[0]["in_reply_to"]["client_ref"], "ref-+819000000001");
    assert_eq!(mos[1]["in_reply_to"], Value::Null);
}

#[test]
fn with_webhooks_off_nothing_enters_the_outbox_but_events_still_happen() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SqliteOptions { webhooks: false, ..SqliteOptions::new(dir.path().join("smppd.db")) };
    let store = SqliteStore::open(opts).expect("open store");
    let sent = accept_one(&store, message("+8191"));
    claim(&store, T0);
    ack(&store, sent, "off1", T0 + 1);
    let outcome = apply(&store, receipt("off1", "DELIVRD", T0 + 2));
    assert!(matches!(outcome, ReceiptOutcome::Matched { message, .. } if message == sent));
    assert_eq!(status(&store, sent), MessageStatus::Delivered);
    let mo = MoIn {
        account: ACCOUNT.into(),
        carrier: "docomo".into(),
        from: "+8191".into(),
        to: "CARDCO".into(),
        text: "hello".into(),
        at: T0 + 3,
        opt_out: false,
        reply: None,
    };
    let recorded = store.record_mos(&[mo], 10 * MINUTE).unwrap();
    assert_eq!(recorded[0].in_reply_to, Some(sent), "the MO is stored and linked");
    assert!(webhooks(&store).is_empty(), "no outbox rows when webhooks are off");
    drop(store);

    let store = open(dir.path());
    let loud = accept_one(&store, message("+8192"));
    claim(&store, T0);
    ack(&store, loud, "on1", T0 + 4);
    assert_eq!(status_webhooks_for(&store, loud), ["submitted"], "the setting is per open");
}

#[test]
fn status_changes_queue_webhooks_in_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let quiet = accept_one(&store, NewMessage { dlr: false, ..message("+8181") });
    let loud = accept_one(&store, message("+8182"));
    let doomed = accept_one(&store, NewMessage { dlr: false, ..message("+8183") });
    let rejected = accept_one(
        &store,
        NewMessage {
            status: MessageStatus::Rejected,
            reason: Some("suppressed".into()),
            ..message("+8184")
        },
    );
    claim(&store, T0);
    store
        .record_submits(
            &[
                acked(quiet, 0, "w1", T0 + 1),
                acked(loud, 0, "w2", T0 + 2),
                result(doomed, 0, SubmitOutcome::Failed { status: 0x45, retry: false }, T0 + 3),
            ],
            MINUTE,
        )
        .unwrap();
    assert!(status_webhooks_for(&store, quiet).is_empty(), "no dlr: successes stay quiet");
    assert_eq!(status_webhooks_for(&store, doomed), ["failed"], "failures always notify");
    assert_eq!(status_webhooks_for(&store, rejected), ["rejected"]);

    let hooks = webhooks(&store);
    let (_, kind, body) = hooks.iter().find(|(_, _, b)| names(b, loud)).expect("loud's webhook");
    assert_eq!(kind, "status");
    let expected = format!(
        r#"{{"type":"message.status","id":"{loud}","client_ref":"ref-+8182","status":"submitted","carrier":"docomo","to":"+8182","segments":1,"at":{}}}"#,
        T0 + 2
    );
    let job = store
        .due_webhooks(T0 + 2, 100)
        .unwrap()
        .into_iter()
        .find(|j| serde_json::from_str::<Value>(&j.payload).unwrap() == *body)
        .expect("due at the event time");
    assert_eq!(job.payload, expected, "field order is part of the contract");
    assert_eq!(job.attempts, 0);
    let failed = hooks.iter().find(|(_, _, b)| names(b, doomed)).unwrap();
    assert_eq!(failed.2["error"], "submit_sm_resp status 0x00000045");
    assert!(store.due_webhooks(T0 + 1, 100).unwrap().iter().all(|j| j.id != job.id));

    store.webhook_failed(job.id, T0 + MINUTE, "503").unwrap();
    let ids_due = |now| -> Vec<i64> {
        store.due_webhooks(now, 100).unwrap().into_iter().map(|j| j.id).collect()
    };
    assert!(!ids_due(T0 + MINUTE - 1).contains(&job.id), "not before its next attempt");
    let retried = store.due_webhooks(T0 + MINUTE, 100).unwrap();
    let retried = retried.iter().find(|j| j.id == job.id).expect("due again");
    assert_eq!(retried.attempts, 1);
    store.webhook_delivered(job.id, T0 + MINUTE).unwrap();
    assert!(!ids_due(Millis::MAX).contains(&job.id), "delivered rows leave the outbox");
}

#[test]
fn depth_counts_messages_by_status_class_and_carrier() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let a = accept_one(&store, message("+8191"));
    accept_one(&store, message("+8192"));
    accept_one(&store, NewMessage { class: "campaign".into(), ..message("+8193") });
    store.claim("docomo", ACCOUNT, T0, 1).unwrap();
    ack(&store, a, "d1", T0);
    let depth: Vec<_> = store
        .depth()
        .unwrap()
        .into_iter()
        .map(|d| (d.status, d.class, d.carrier, d.count))
        .collect();
    let row = |s, c: &str, n| (s, c.to_string(), "docomo".to_string(), n);
    assert_eq!(
        depth,
        [
            row(MessageStatus::Queued, "campaign", 1),
            row(MessageStatus::Queued, "otp", 1),
            row(MessageStatus::Submitted, "otp", 1)
        ]
    );
    assert_eq!(store.backlog().unwrap(), 2);
}

/// Every kind of status change moves the counts in `depth` exactly: accept (queued, held,
/// rejected), claim, acks, retryable and final failures, unknown results, receipts,
/// cancel, expiry, recovery after a crash and the operator's decisions.
#[test]
fn depth_matches_the_messages_after_every_kind_of_change() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("smppd.db");
    let store = open(dir.path());
    let check = |store: &SqliteStore| support::assert_depth_is_exact(store, &db);
    let ids: Vec<MessageId> =
        (0..8).map(|i| accept_one(&store, message(&format!("+8190000{i}")))).collect();
    let held =
        NewMessage { status: MessageStatus::Held, not_before: T0 + MINUTE, ..message("+8191") };
    let held = accept_one(&store, held);
    let doomed = NewMessage { deadline: Some(T0 + 2 * MINUTE), ..message("+8192") };
    let doomed = NewMessage { class: "campaign".into(), not_before: T0 + 9 * MINUTE, ..doomed };
    let doomed = accept_one(&store, doomed);
    accept_one(&store, NewMessage { status: MessageStatus::Rejected, ..message("+8193") });
    check(&store);

    assert_eq!(claim(&store, T0).len(), 8);
    check(&store);
    let failed = |id, retry| result(id, 0, SubmitOutcome::Failed { status: 0x58, retry }, T0);
    let results = [
        acked(ids[0], 0, "a0", T0),
        acked(ids[1], 0, "a1", T0),
        failed(ids[2], true),
        failed(ids[3], false),
        result(ids[4], 0, SubmitOutcome::Unknown, T0),
        result(ids[5], 0, SubmitOutcome::Unknown, T0),
    ];
    store.record_submits(&results, MINUTE).unwrap();
    check(&store);
    apply(&store, receipt("a0", "DELIVRD", T0 + 1));
    apply(&store, receipt("a1", "UNDELIV", T0 + 1));
    check(&store);

    assert_eq!(store.cancel(held, T0 + 2).unwrap(), CancelOutcome::Cancelled);
    assert_eq!(store.expire(T0 + 3 * MINUTE).unwrap(), 1, "{doomed} expires");
    check(&store);
    store.resolve_unknown(ids[4], UnknownDecision::Resend, T0 + 4).unwrap();
    store.resolve_unknown(ids[5], UnknownDecision::Abandon, T0 + 4).unwrap();
    check(&store);

    // ids[6] and ids[7] are still submitting when the daemon "crashes".
    drop(store);
    let store = open(dir.path());
    let recovery = store.recover(T0 + 5, &|class| class == "otp").unwrap();
    assert_eq!(recovery.requeued, 2);
    check(&store);
}

/// A day's traffic for one big issuer, through every phase, in batches as the daemon's group
/// commit sends them. Prints the rate of each phase (`--nocapture`).
#[test]
fn two_hundred_thousand_messages_flow_through() {
    let total: usize = if cfg!(debug_assertions) { 50_000 } else { 200_000 };
    let batch = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let rate = |phase: &str, started: std::time::Instant| {
        let secs = started.elapsed().as_secs_f64();
        eprintln!("{phase}: {total} in {secs:.2} s = {:.0}/s", total as f64 / secs);
    };

    let started = std::time::Instant::now();
    for chunk in 0..total / batch {
        let messages: Vec<NewMessage> =
            (0..batch).map(|i| message(&format!("+8190{:08}", chunk * batch + i))).collect();
        store.accept(&messages).unwrap();
    }
    rate("accept", started);
    assert_eq!(store.backlog().unwrap(), total as u64);

    let started = std::time::Instant::now();
    let mut claimed = Vec::with_capacity(total);
    loop {
        let got = store.claim("docomo", ACCOUNT, T0, batch).unwrap();
        if got.is_empty() {
            break;
        }
        claimed.extend(got.into_iter().map(|c| c.id));
    }
    rate("claim", started);
    assert_eq!(claimed.len(), total);

    let smsc_id = |id: MessageId| format!("{:x}", 0x1000_0000 + id);
    let started = std::time::Instant::now();
    for ids in claimed.chunks(batch) {
        let results: Vec<_> = ids.iter().map(|&id| acked(id, 0, &smsc_id(id), T0 + 10)).collect();
        store.record_submits(&results, MINUTE).unwrap();
    }
    rate("record_submits", started);

    // Receipts name the id in decimal, as the hex/decimal carriers do. The first two teach
    // the store that (held, then read across bases by the sweep); the rest match at once.
    let receipt_for =
        |id: MessageId| receipt(&format!("{:010}", 0x1000_0000 + id), "DELIVRD", T0 + 20);
    let first: Vec<_> = claimed[..2].iter().map(|&id| receipt_for(id)).collect();
    assert_eq!(store.apply_receipts(&first).unwrap(), [ReceiptOutcome::Held, ReceiptOutcome::Held]);
    assert_eq!(store.sweep_held_receipts(T0 + 20, 10).unwrap().len(), 2);
    let started = std::time::Instant::now();
    for ids in claimed[2..].chunks(batch) {
        let receipts: Vec<_> = ids.iter().map(|&id| receipt_for(id)).collect();
        let outcomes = store.apply_receipts(&receipts).unwrap();
        assert!(outcomes.iter().all(|o| matches!(
            o,
            ReceiptOutcome::Matched { status: MessageStatus::Delivered, .. }
        )));
    }
    rate("apply_receipts", started);

    assert_eq!(store.backlog().unwrap(), 0);
    let delivered: u64 = store
        .depth()
        .unwrap()
        .iter()
        .filter(|d| d.status == MessageStatus::Delivered)
        .map(|d| d.count)
        .sum();
    assert_eq!(delivered, total as u64);
}

#[test]
fn an_early_decimal_receipt_does_not_meet_another_message_under_a_hex_reading() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let ids: Vec<_> = (0..4).map(|i| accept_one(&store, message(&format!("+81900{i}")))).collect();
    claim(&store, T0);
    // Decimal ids, learned from two exact matches.
    store
        .record_submits(&[acked(ids[0], 0, "11", T0), acked(ids[1], 0, "12", T0)], MINUTE)
        .unwrap();
    for id in ["11", "12"] {
        assert!(matches!(
            apply(&store, receipt(id, "DELIVRD", T0 + 10)),
            ReceiptOutcome::Matched { .. }
        ));
    }
    // Message 3 was acked as "20"; message 4's resp ("14") is not recorded yet when its
    // receipt comes. Hex 14 is decimal 20: it must not resolve message 3.
    store.record_submits(&[acked(ids[2], 0, "20", T0)], MINUTE).unwrap();
    assert_eq!(apply(&store, receipt("14", "DELIVRD", T0 + 20)), ReceiptOutcome::Held);
    assert_eq!(status(&store, ids[2]), MessageStatus::Submitted);
    let late = store.record_submits(&[acked(ids[3], 0, "14", T0 + 30)], MINUTE).unwrap();
    assert!(
        matches!(late[..], [ReceiptOutcome::Matched { message, .. }] if message == ids[3]),
        "{late:?}"
    );
}
