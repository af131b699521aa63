//! The `smppd` command line: check-config, policy explain and the demo, run as a user would.

use std::process::Command;

fn smppd(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_smppd")).args(args).output().expect("smppd runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example() -> String {
    format!("{}/../../deploy/smppd.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_config_checks_and_prints_without_secrets() {
    let (code, out, err) = smppd(&["check-config", "--config", &example()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("[[carriers.docomo.accounts]]") && out.contains("tps = 11.1"), "{out}");
    assert!(
        out.contains("<redacted>") && !out.contains("change-me-to-a-long-random-token"),
        "{out}"
    );
    assert!(out.contains("[policy.classes.dunning]\nquiet = \"21:00-08:00\""), "{out}");
}

#[test]
fn a_config_mistake_names_the_key_and_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let original = std::fs::read_to_string(example()).unwrap();
    let line = original.lines().position(|l| l.starts_with("window = 10")).unwrap() + 1;
    std::fs::write(&path, original.replace("window = 10", "window = 0")).unwrap();
    let (code, _, err) = smppd(&["check-config", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("line {line}"))
            && err.contains("window")
            && err.contains("greater than 0"),
        "{err}"
    );
    let (code, _, err) = smppd(&["check-config", "--config", "/nonexistent/smppd.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/smppd.toml"), "{err}");
}

#[test]
fn policy_explain_prints_the_decision_and_its_rules() {
    let (code, out, err) = smppd(&[
        "policy",
        "explain",
        "--config",
        &example(),
        "--class",
        "dunning",
        "--to",
        "+819012345678",
        "--at",
        "2026-11-22T22:30:00+09:00",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("hold until 2026-11-23T08:00:00+09:00\n"), "{out}");
    assert!(out.contains("quiet hours 21:00-08:00 JST"), "{out}");
    let (code, out, _) = smppd(&[
        "policy",
        "explain",
        "--config",
        &example(),
        "--class",
        "dunning",
        "--to",
        "090-1234-5678",
        "--at",
        "2026-11-23T08:00:00+09:00",
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("send\n"), "{out}");
    let (code, _, err) = smppd(&[
        "policy",
        "explain",
        "--config",
        &example(),
        "--class",
        "otp",
        "--to",
        "03-1234-5678",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--to") && err.contains("landline"), "{err}");
}

#[test]
fn the_demo_sends_a_batch_and_prints_a_summary_per_carrier() {
    let (code, out, err) =
        smppd(&["demo", "--exit", "--messages", "40", "--listen", "127.0.0.1:0"]);
    assert_eq!(code, 0, "{err}");
    for carrier in ["docomo", "au", "softbank", "rakuten"] {
        let row = out
            .lines()
            .find(|l| l.starts_with(carrier))
            .unwrap_or_else(|| panic!("{carrier} row: {out}"));
        let cols: Vec<&str> = row.split_whitespace().collect();
        let (sent, held): (u32, u32) = (cols[1].parse().unwrap(), cols[2].parse().unwrap());
        assert_eq!(sent + held, 10, "{row}");
        // Everything sent reached a final state and the simulator billed what we counted.
        let (delivered, undeliv): (u32, u32) = (cols[3].parse().unwrap(), cols[4].parse().unwrap());
        assert_eq!(delivered + undeliv, sent, "{row}");
        assert_eq!(cols[6], cols[7], "our billable count equals the simulator's: {row}");
    }
    assert!(out.contains("/metrics"), "{out}");
}

#[test]
fn policy_explain_reads_the_lists_from_the_configured_database() {
    use smppd_store::{ListEntry, ListKind, SqliteOptions, SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("smppd.db");
    let store = SqliteStore::open(SqliteOptions::new(&db)).unwrap();
    let entry = ListEntry {
        number: "+819012345678".into(),
        reason: "recycled_number".into(),
        added_by: "ops".into(),
        added_at: 0,
    };
    store.put_list_entries(ListKind::Suppression, &[entry]).unwrap();
    drop(store);
    let path = dir.path().join("smppd.toml");
    let original = std::fs::read_to_string(example()).unwrap();
    let config = original.replace("\"/var/lib/smppd/smppd.db\"", &format!("{:?}", db));
    std::fs::write(&path, config).unwrap();
    let explain = |to: &str| {
        smppd(&[
            "policy",
            "explain",
            "--config",
            path.to_str().unwrap(),
            "--class",
            "otp",
            "--to",
            to,
            "--at",
            "2026-11-23T12:00:00+09:00",
        ])
    };
    let (code, out, err) = explain("090-1234-5678");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("reject: ") && out.contains("recycled_number"), "{out}");
    assert!(out.contains(&format!("lists checked in {}", db.display())), "{out}");
    let (_, out, _) = explain("090-1234-5679");
    assert!(out.starts_with("send\n"), "{out}");
}
