//! The policy layer's part of the [`Store`] contract: lists, the pre-send check, re-routes,
//! batches with approval, the billing report and the audit trail.

mod support;

use std::path::Path;

use serde_json::Value;
use smppd_store::{
    BatchAction, BatchOutcome, BatchRow, BatchStatus, BeforeSend, ListEntry, ListKind, MessageId,
    MessageStatus, Millis, NewBatch, NewMessage, ReceiptIn, Reroute, SegmentState, SqliteOptions,
    SqliteStore, Store, SubmitOutcome, SubmitResult,
};

const T0: Millis = 1_700_000_000_000;
const HOUR: Millis = 3_600_000;

fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(SqliteOptions::new(dir.join("smppd.db"))).expect("open store")
}

fn message(to: &str) -> NewMessage {
    NewMessage {
        api_key: "maker".into(),
        idempotency_key: None,
        client_ref: None,
        to: to.into(),
        from: "CARDCO".into(),
        text: "お支払いのお願い".into(),
        class: "dunning".into(),
        carrier: "docomo".into(),
        segments: 1,
        billable: 1,
        status: MessageStatus::Queued,
        not_before: T0,
        deadline: None,
        dlr: true,
        priority: 2,
        reason: None,
        created_at: T0,
        batch_id: None,
    }
}

fn accept(store: &SqliteStore, m: NewMessage) -> MessageId {
    store.accept(&[m]).unwrap()[0].id
}

fn entry(number: &str, reason: &str) -> ListEntry {
    ListEntry { number: number.into(), reason: reason.into(), added_by: "ops".into(), added_at: T0 }
}

fn status(store: &SqliteStore, id: MessageId) -> MessageStatus {
    store.message(id).unwrap().unwrap().status
}

fn segment_states(store: &SqliteStore, id: MessageId) -> Vec<SegmentState> {
    store.message(id).unwrap().unwrap().segment_details.iter().map(|s| s.state).collect()
}

fn ack(store: &SqliteStore, id: MessageId, segment: u32, smsc_id: &str, at: Millis) {
    let r = SubmitResult {
        message: id,
        segment,
        account: "docomo-1".into(),
        outcome: SubmitOutcome::Acked { smsc_id: smsc_id.into() },
        at,
        sent_at: at,
    };
    store.record_submits(&[r], HOUR).unwrap();
}

fn receipt(smsc_id: &str, state: &str, at: Millis) -> ReceiptIn {
    ReceiptIn {
        account: "docomo-1".into(),
        smsc_id: smsc_id.into(),
        state: state.into(),
        is_final: true,
        delivered: state == "DELIVRD",
        error: None,
        at,
    }
}

#[test]
fn lists_answer_for_both_kinds_and_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = open(dir.path());
        store
            .put_list_entries(ListKind::Suppression, &[entry("+819011110001", "recycled_number")])
            .unwrap();
        store.put_list_entries(ListKind::OptOut, &[entry("+819011110001", "operator")]).unwrap();
        store.put_list_entries(ListKind::OptOut, &[entry("+819011110002", "operator")]).unwrap();
        // A second put replaces the reason.
        store.put_list_entries(ListKind::OptOut, &[entry("+819011110002", "complaint")]).unwrap();
    }
    let store = open(dir.path());
    let numbers: Vec<String> =
        ["+819011110001", "+819011110002", "+819011110003"].map(String::from).into();
    let hits = store.list_hits(&numbers).unwrap();
    assert_eq!(hits[0].suppressed.as_deref(), Some("recycled_number"));
    assert!(hits[0].opted_out);
    assert_eq!((hits[1].suppressed.as_deref(), hits[1].opted_out), (None, true));
    assert_eq!((hits[2].suppressed.as_deref(), hits[2].opted_out), (None, false));
    let e = store.list_entry(ListKind::OptOut, "+819011110002").unwrap().unwrap();
    assert_eq!((e.reason.as_str(), e.added_by.as_str()), ("complaint", "ops"));
    assert!(store.remove_list_entry(ListKind::Suppression, "+819011110001").unwrap());
    assert!(!store.remove_list_entry(ListKind::Suppression, "+819011110001").unwrap());
    assert_eq!(store.list_hits(&numbers[..1]).unwrap()[0].suppressed, None);
    assert!(store.list_hits(&numbers[..1]).unwrap()[0].opted_out, "the other list is untouched");
}

#[test]
fn the_pre_send_check_rejects_or_holds_claimed_messages_without_sending_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let doomed = accept(&store, NewMessage { segments: 2, ..message("+819011110001") });
    let late = accept(&store, message("+819011110002"));
    let fine = accept(&store, message("+819011110003"));
    assert_eq!(store.claim("docomo", "docomo-1", T0, 10).unwrap().len(), 3);
    let verdicts = [
        BeforeSend::Reject { message: doomed, reason: "suppressed(recycled_number)".into() },
        BeforeSend::Hold { message: late, until: T0 + 11 * HOUR, reason: "quiet hours".into() },
    ];
    assert_eq!(store.decide_before_send(&verdicts, T0 + 1).unwrap(), 2);
    let v = store.message(doomed).unwrap().unwrap();
    assert_eq!(v.status, MessageStatus::Rejected);
    assert_eq!(v.reason.as_deref(), Some("suppressed(recycled_number)"));
    assert_eq!(segment_states(&store, doomed), [SegmentState::Queued; 2], "never sent");
    let v = store.message(late).unwrap().unwrap();
    assert_eq!((v.status, v.not_before), (MessageStatus::Held, T0 + 11 * HOUR));
    assert_eq!(status(&store, fine), MessageStatus::Submitting, "not named: untouched");
    // A second verdict on a message that is no longer submitting changes nothing.
    assert_eq!(store.decide_before_send(&verdicts[..1], T0 + 2).unwrap(), 0);
    assert!(store.claim("docomo", "docomo-1", T0 + HOUR, 10).unwrap().is_empty());
    let again = store.claim("docomo", "docomo-1", T0 + 11 * HOUR, 10).unwrap();
    assert_eq!(again.iter().map(|c| c.id).collect::<Vec<_>>(), [late]);
    let hook = store.due_webhooks(T0 + 1, 10).unwrap();
    let body: Value = serde_json::from_str(&hook[0].payload).unwrap();
    assert_eq!(
        (body["status"].as_str(), body["error"].as_str()),
        (Some("rejected"), Some("suppressed(recycled_number)"))
    );
    let events = store.audit_events(late).unwrap();
    assert_eq!(events[0].kind, "held");
    assert!(events[0].detail.as_deref().unwrap().contains("quiet hours"));
    support::assert_depth_is_exact(&store, &dir.path().join("smppd.db"));
}

#[test]
fn a_refused_message_is_rerouted_once_with_the_new_carriers_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = accept(&store, message("+819011110001"));
    store.claim("docomo", "docomo-1", T0, 10).unwrap();
    let r = Reroute {
        message: id,
        from_carrier: "docomo".into(),
        to_carrier: "au".into(),
        segments: 2,
        billable: 2,
        status: 0x0B,
        at: T0 + 1,
    };
    assert!(store.reroute(&r).unwrap());
    let v = store.message(id).unwrap().unwrap();
    assert_eq!(
        (v.status, v.carrier.as_str(), v.segments, v.billable),
        (MessageStatus::Queued, "au", 2, 2)
    );
    assert_eq!(v.rerouted_from.as_deref(), Some("docomo"));
    assert_eq!(segment_states(&store, id), [SegmentState::Queued; 2]);
    let claimed = store.claim("au", "au-1", T0 + 2, 10).unwrap();
    assert_eq!(claimed[0].pending, [0, 1]);
    let twice = Reroute { from_carrier: "au".into(), to_carrier: "softbank".into(), ..r.clone() };
    assert!(!store.reroute(&twice).unwrap(), "never re-routed twice");
    assert_eq!(store.audit_events(id).unwrap()[0].kind, "rerouted");

    // A message with a segment the first carrier accepted is not re-routed.
    let part = accept(&store, NewMessage { segments: 2, ..message("+819011110002") });
    store.claim("docomo", "docomo-1", T0, 10).unwrap();
    ack(&store, part, 0, "77", T0);
    assert!(!store.reroute(&Reroute { message: part, ..r }).unwrap());
    support::assert_depth_is_exact(&store, &dir.path().join("smppd.db"));
}

fn row(line: u32, to: &str) -> BatchRow {
    BatchRow {
        line,
        to: Some(to.into()),
        text: Some(format!("line {line}")),
        carrier: Some(if line % 2 == 0 { "docomo" } else { "au" }.into()),
        segments: 1,
        billable: 1,
        errors: Vec::new(),
    }
}

fn batch() -> NewBatch {
    let bad = BatchRow {
        line: 4,
        to: None,
        text: None,
        carrier: None,
        segments: 0,
        billable: 0,
        errors: vec!["bad number".into(), "missing field name".into()],
    };
    NewBatch {
        name: "November dunning".into(),
        class: "dunning".into(),
        from: "CARDCO".into(),
        template: "{{name}}様".into(),
        number_column: "phone".into(),
        send_at: None,
        deadline: None,
        rows: vec![row(2, "+819011110002"), row(3, "+819011110003"), bad],
    }
}

fn batch_messages(store: &SqliteStore, id: i64, not_before: Millis) -> Vec<NewMessage> {
    store
        .batch_rows(id, true, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|r| NewMessage {
            idempotency_key: Some(format!("batch:{id}:{}", r.line)),
            carrier: r.carrier.unwrap(),
            not_before,
            status: if not_before > T0 { MessageStatus::Held } else { MessageStatus::Queued },
            batch_id: Some(id),
            ..message(&r.to.unwrap())
        })
        .collect()
}

#[test]
fn a_batch_is_approved_only_by_someone_other_than_its_makers() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = store.create_batch(&batch(), "maker", T0).unwrap();
    let v = store.batch(id).unwrap().unwrap();
    assert_eq!((v.status, v.rows_total, v.rows_valid), (BatchStatus::Draft, 3, 2));
    let errors = store.batch_rows(id, false, 10).unwrap();
    assert_eq!((errors.len(), errors[0].line, errors[0].errors.len()), (1, 4, 2));
    let totals = store.batch_totals(id).unwrap();
    assert_eq!(
        totals.iter().map(|t| (t.carrier.as_str(), t.messages)).collect::<Vec<_>>(),
        [("au", 1), ("docomo", 1)]
    );

    let messages = batch_messages(&store, id, T0);
    assert_eq!(v.revision, 1);
    let approve = BatchAction::Approve { messages: messages.clone(), revision: 1 };
    let act = |a: &BatchAction, by: &str| store.batch_action(id, a, by, T0 + 1).unwrap();
    assert_eq!(act(&approve, "checker"), BatchOutcome::Conflict(BatchStatus::Draft));
    let submit = BatchAction::Submit { requires_approval: true, messages: Vec::new(), revision: 1 };
    assert_eq!(act(&submit, "maker"), BatchOutcome::Applied(BatchStatus::PendingApproval));
    assert_eq!(act(&approve, "maker"), BatchOutcome::SameOperator);
    let reject = BatchAction::Reject { reason: Some("wrong month".into()) };
    assert_eq!(act(&reject, "checker"), BatchOutcome::Applied(BatchStatus::Draft));
    let v = store.batch(id).unwrap().unwrap();
    assert_eq!(
        (v.rejected_by.as_deref(), v.reject_reason.as_deref()),
        (Some("checker"), Some("wrong month"))
    );
    // The checker edits it: now a maker, so it cannot approve.
    assert_eq!(
        act(&BatchAction::Edit(batch()), "checker"),
        BatchOutcome::Applied(BatchStatus::Draft)
    );
    // The edit made revision 2: what was prepared from revision 1 is refused.
    assert_eq!(act(&submit, "maker"), BatchOutcome::Changed { revision: 2 });
    let submit = BatchAction::Submit { requires_approval: true, messages: Vec::new(), revision: 2 };
    assert_eq!(act(&submit, "maker"), BatchOutcome::Applied(BatchStatus::PendingApproval));
    assert_eq!(act(&approve, "auditor"), BatchOutcome::Changed { revision: 2 });
    assert!(store.message(1).unwrap().is_none(), "nothing queued from a stale revision");
    let approve = BatchAction::Approve { messages: batch_messages(&store, id, T0), revision: 2 };
    assert_eq!(act(&approve, "checker"), BatchOutcome::SameOperator);
    assert!(store.message(1).unwrap().is_none(), "nothing queued before approval");
    assert_eq!(act(&approve, "auditor"), BatchOutcome::Applied(BatchStatus::Running));
    let v = store.batch(id).unwrap().unwrap();
    assert_eq!((v.approved_by.as_deref(), v.approved_at), (Some("auditor"), Some(T0 + 1)));
    assert_eq!(v.messages, [(MessageStatus::Queued, 2)]);
    assert_eq!(store.message(1).unwrap().unwrap().batch_id, Some(id));
    assert_eq!(act(&approve, "auditor"), BatchOutcome::Conflict(BatchStatus::Running));
    assert_eq!(
        act(&BatchAction::Edit(batch()), "maker"),
        BatchOutcome::Conflict(BatchStatus::Running)
    );

    // Sent and acked: nothing waits any more, so the batch is done.
    for c in store.claim("docomo", "docomo-1", T0 + 2, 10).unwrap() {
        ack(&store, c.id, 0, &format!("d{}", c.id), T0 + 3);
    }
    for c in store.claim("au", "au-1", T0 + 2, 10).unwrap() {
        ack(&store, c.id, 0, &format!("a{}", c.id), T0 + 3);
    }
    assert_eq!(store.batch(id).unwrap().unwrap().status, BatchStatus::Done);
    assert_eq!(act(&BatchAction::Pause, "maker"), BatchOutcome::Conflict(BatchStatus::Done));
}

#[test]
fn a_paused_batch_is_not_claimed_and_resumes_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let id = store.create_batch(&batch(), "maker", T0).unwrap();
    let mut messages = batch_messages(&store, id, T0);
    messages[1].status = MessageStatus::Held;
    messages[1].not_before = T0 + HOUR;
    messages[1].reason = Some("send_at".into());
    let submit = BatchAction::Submit { requires_approval: false, messages, revision: 1 };
    assert_eq!(
        store.batch_action(id, &submit, "maker", T0).unwrap(),
        BatchOutcome::Applied(BatchStatus::Running)
    );
    assert_eq!(
        store.batch_action(id, &BatchAction::Pause, "ops", T0).unwrap(),
        BatchOutcome::Applied(BatchStatus::Paused)
    );
    assert_eq!(store.batch(id).unwrap().unwrap().messages, [(MessageStatus::Held, 2)]);
    assert!(store.claim("docomo", "docomo-1", T0 + 2 * HOUR, 10).unwrap().is_empty());
    assert!(store.claim("au", "au-1", T0 + 2 * HOUR, 10).unwrap().is_empty());
    assert_eq!(
        store.batch_action(id, &BatchAction::Resume, "ops", T0 + 1).unwrap(),
        BatchOutcome::Applied(BatchStatus::Running)
    );
    let first = store.message(1).unwrap().unwrap();
    assert_eq!((first.status, first.not_before), (MessageStatus::Queued, T0));
    let second = store.message(2).unwrap().unwrap();
    assert_eq!(
        (second.status, second.not_before, second.reason.as_deref()),
        (MessageStatus::Held, T0 + HOUR, Some("send_at"))
    );
    let kinds: Vec<String> = store.audit_events(1).unwrap().into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds, ["paused", "resumed"]);
    support::assert_depth_is_exact(&store, &dir.path().join("smppd.db"));

    assert_eq!(
        store.batch_action(id, &BatchAction::Cancel, "ops", T0 + 2).unwrap(),
        BatchOutcome::Applied(BatchStatus::Cancelled)
    );
    assert_eq!(store.batch(id).unwrap().unwrap().messages, [(MessageStatus::Cancelled, 2)]);
    support::assert_depth_is_exact(&store, &dir.path().join("smppd.db"));
    assert_eq!(
        store.batch_action(id, &BatchAction::Resume, "ops", T0 + 3).unwrap(),
        BatchOutcome::Conflict(BatchStatus::Cancelled)
    );
    assert_eq!(
        store.batch_action(99, &BatchAction::Resume, "ops", T0 + 3).unwrap(),
        BatchOutcome::NotFound
    );
}

#[test]
fn billing_counts_billable_segments_of_delivered_messages_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let delivered =
        accept(&store, NewMessage { segments: 2, billable: 2, ..message("+819011110001") });
    let undelivered = accept(&store, NewMessage { billable: 1, ..message("+819011110002") });
    let expired = accept(
        &store,
        NewMessage {
            deadline: Some(T0 + 10),
            not_before: T0 + HOUR,
            status: MessageStatus::Held,
            ..message("+819011110003")
        },
    );
    accept(
        &store,
        NewMessage {
            status: MessageStatus::Rejected,
            reason: Some("opted_out".into()),
            class: "campaign".into(),
            ..message("+819011110004")
        },
    );
    accept(&store, NewMessage { created_at: T0 + 2 * HOUR, ..message("+819011110005") });
    store.claim("docomo", "docomo-1", T0, 10).unwrap();
    ack(&store, delivered, 0, "1", T0);
    ack(&store, delivered, 1, "2", T0);
    ack(&store, undelivered, 0, "3", T0);
    store
        .apply_receipts(&[
            receipt("1", "DELIVRD", T0),
            receipt("2", "DELIVRD", T0),
            receipt("3", "UNDELIV", T0),
        ])
        .unwrap();
    store.expire(T0 + 20).unwrap();
    assert_eq!(status(&store, expired), MessageStatus::Expired);
    let report = store.billing_report(T0, T0 + HOUR).unwrap();
    assert_eq!(report.len(), 2, "{report:?}");
    let campaign = &report[0];
    assert_eq!((campaign.class.as_str(), campaign.messages, campaign.rejected), ("campaign", 1, 1));
    let d = &report[1];
    assert_eq!((d.carrier.as_str(), d.class.as_str()), ("docomo", "dunning"));
    assert_eq!((d.messages, d.segments_submitted, d.billable_segments), (3, 3, 2));
    assert_eq!((d.delivered, d.undeliverable, d.expired, d.failed), (1, 1, 1, 0));
}

#[test]
fn audit_events_are_kept_per_message_and_purged_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let held = accept(
        &store,
        NewMessage {
            status: MessageStatus::Held,
            not_before: T0 + HOUR,
            reason: Some("quiet hours".into()),
            ..message("+819011110001")
        },
    );
    let queued = accept(&store, message("+819011110002"));
    let later = accept(
        &store,
        NewMessage {
            status: MessageStatus::Held,
            created_at: T0 + 2 * HOUR,
            not_before: T0 + 3 * HOUR,
            ..message("+819011110003")
        },
    );
    let e = store.audit_events(held).unwrap();
    assert_eq!((e.len(), e[0].kind.as_str(), e[0].at), (1, "held", T0));
    let detail: Value = serde_json::from_str(e[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(detail["until"], T0 + HOUR);
    assert!(store.audit_events(queued).unwrap().is_empty(), "a plain accept needs no event");
    assert_eq!(store.purge_audit(T0 + HOUR).unwrap(), 1);
    assert!(store.audit_events(held).unwrap().is_empty());
    assert_eq!(store.audit_events(later).unwrap().len(), 1);
}

#[test]
fn a_stop_mo_opts_its_sender_out_and_queues_the_acknowledgement_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let mo = smppd_store::MoIn {
        account: "docomo-1".into(),
        carrier: "docomo".into(),
        from: "+819011110001".into(),
        to: "0120000000".into(),
        text: "STOP".into(),
        at: T0,
        opt_out: true,
        reply: Some(NewMessage { class: "opt_out_reply".into(), ..message("+819011110001") }),
    };
    let recorded = store.record_mos(&[mo], HOUR).unwrap();
    let reply = recorded[0].reply.expect("the acknowledgement was accepted");
    assert_eq!(status(&store, reply), MessageStatus::Queued);
    let e = store.list_entry(ListKind::OptOut, "+819011110001").unwrap().unwrap();
    assert_eq!((e.reason.as_str(), e.added_by.as_str()), ("stop_keyword", "mo"));
    let hooks = store.due_webhooks(T0, 10).unwrap();
    let body: Value = serde_json::from_str(&hooks[0].payload).unwrap();
    assert_eq!((body["type"].as_str(), body["opted_out"].as_bool()), (Some("mo"), Some(true)));
}
