//! The decision depends only on the instant, never on the host's time zone. This is its own
//! test binary because it changes `TZ` for the whole process.

use smpp_policy::time::{format_jst, parse_rfc3339};
use smpp_policy::{decide, DecisionInput, ListStatus, PolicyConfig, Verdict};

#[test]
fn same_answers_under_any_tz() {
    let config = PolicyConfig::default();
    let now = parse_rfc3339("2026-11-22T12:30:00Z").unwrap(); // 21:30 JST
    let mut answers = Vec::new();
    for tz in ["UTC", "America/Los_Angeles", "Asia/Tokyo", "Pacific/Chatham", "Invalid/Zone"] {
        // Edition 2021: set_var is safe; nothing else in this binary runs concurrently.
        std::env::set_var("TZ", tz);
        let input = DecisionInput {
            class: "dunning",
            to: "+819012345678",
            now,
            send_at: None,
            deadline: None,
            lists: ListStatus::default(),
        };
        let d = decide(&input, &config);
        let Verdict::Hold { until } = d.verdict else { panic!("{tz}: {:?}", d.verdict) };
        answers.push((format_jst(until), d.explain()));
    }
    assert_eq!(answers[0].0, "2026-11-23T08:00:00+09:00");
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:#?}");
}
