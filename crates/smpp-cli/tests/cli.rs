//! The `smpp pdu` commands as a user runs them: arguments, stdin, stdout and exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const ENQUIRE_LINK: &str = "00000010000000150000000000000001";
const SPEC_BIND: &str = "0000002F000000020000000000000001534D5050335445535400736563726574303800\
                         5355424D4954310000010100";

fn smpp(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smpp"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("smpp runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

#[test]
fn decode_prints_one_object_and_exits_zero() {
    let out = smpp(&["pdu", "decode", SPEC_BIND], "");
    assert!(out.status.success());
    let v = &json_lines(&out)[0];
    assert_eq!(v["command_name"], "bind_transmitter");
    assert_eq!(v["fields"]["system_id"], "SMPP3TEST");
    assert_eq!(v["command_length"], 47);
}

#[test]
fn decode_failure_exits_one_with_the_reply() {
    let out = smpp(&["pdu", "decode", "0000001000000010000000000000002a"], "");
    assert_eq!(out.status.code(), Some(1));
    let v = &json_lines(&out)[0];
    assert_eq!(v["error"]["kind"], "invalid");
    assert_eq!(v["error"]["reply"]["status_name"], "ESME_RINVCMDID");
    assert_eq!(v["error"]["reply"]["sequence_number"], 42);
    assert_eq!(v["error"]["then"], "continue");
}

#[test]
fn decode_reads_lines_from_stdin_and_keeps_going_after_errors() {
    let input = format!("{ENQUIRE_LINK}\nnot-hex\n\n# comment\n{SPEC_BIND}\n");
    let out = smpp(&["pdu", "decode"], &input);
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3, "one output line per non-blank input line");
    assert_eq!(lines[0]["command_name"], "enquire_link");
    assert!(lines[1]["error"]["message"].as_str().unwrap().starts_with("not hex"));
    assert_eq!(lines[2]["command_name"], "bind_transmitter");
}

#[test]
fn strict_flag_switches_modes() {
    let bodiless_ok = "00000010800000040000000000000005";
    assert!(smpp(&["pdu", "decode", bodiless_ok], "").status.success());
    let out = smpp(&["pdu", "decode", "--strict", bodiless_ok], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(json_lines(&out)[0]["error"]["reply"].is_null());
}

#[test]
fn decode_then_encode_gives_back_the_bytes() {
    let decoded = smpp(&["pdu", "decode", SPEC_BIND], "");
    let json = String::from_utf8(decoded.stdout).unwrap();
    let out = smpp(&["pdu", "encode", json.trim()], "");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), SPEC_BIND.to_lowercase());
}

#[test]
fn encode_names_the_bad_field() {
    let out = smpp(
        &[
            "pdu",
            "encode",
            r#"{"command_name":"submit_sm","fields":{"destination_addr":"123456789012345678901"}}"#,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let msg = json_lines(&out)[0]["error"]["message"].as_str().unwrap().to_string();
    assert!(msg.contains("destination_addr") && msg.contains("21"), "{msg}");
}

#[test]
fn encode_reads_json_lines_from_stdin() {
    let input =
        "{\"command_name\":\"enquire_link\",\"sequence_number\":7}\n{\"command_name\":\"nope\"}\n";
    let out = smpp(&["pdu", "encode"], input);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "00000010000000150000000000000007");
    assert!(lines[1].contains("unknown command"), "{}", lines[1]);
}

#[test]
fn frames_splits_a_stream_and_reports_leftovers() {
    let stream = format!("{ENQUIRE_LINK}{SPEC_BIND}000000");
    let out = smpp(&["pdu", "frames", &stream], "");
    assert!(out.status.success());
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["command_name"], "bind_transmitter");
    assert_eq!(lines[2]["incomplete"], 3);
}

#[test]
fn frames_stops_when_framing_is_lost() {
    let stream = format!("{ENQUIRE_LINK}0000000800000015{ENQUIRE_LINK}");
    let out = smpp(&["pdu", "frames"], &stream);
    assert_eq!(out.status.code(), Some(1));
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["error"]["then"], "close_connection");
}

#[test]
fn pretty_prints_a_dissection() {
    let out = smpp(&["pdu", "decode", "--pretty", SPEC_BIND], "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("bind_transmitter (0x00000002)"), "{text}");
    assert!(text.contains("addr_ton") && text.contains("international"), "{text}");
}

#[test]
fn an_unknown_text_id_format_is_refused_with_the_choices() {
    let out = smpp(
        &["bench", "--system-id", "X", "--password", "y", "--port", "1", "--text-id-format", "b64"],
        "",
    );
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--text-id-format \"b64\"") && err.contains("hex_resp_decimal_receipt"),
        "{err}"
    );
}

#[test]
fn bench_refuses_zero_threads_naming_the_flag() {
    let out = smpp(&["bench", "--system-id", "X", "--password", "y", "--threads", "0"], "");
    assert_ne!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threads") && err.contains("'0'"), "{err}");
}
