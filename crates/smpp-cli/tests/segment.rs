//! `smpp segment` as a user runs it: the built binary, real texts, stdout, stderr, exit codes.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

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

/// `n` Japanese characters (all in the BMP, none in GSM 03.38).
fn jp(n: usize) -> String {
    "ご利用代金のお支払い期日は十一月二十七日です".chars().cycle().take(n).collect()
}

fn segment_json(carrier: &str, text: &str, extra: &[&str]) -> Value {
    let mut args = vec!["segment", "--json", "--carrier", carrier];
    args.extend_from_slice(extra);
    args.push(text);
    let out = smpp(&args, "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn hex_parts(v: &Value) -> Vec<String> {
    v["parts"].as_array().unwrap().iter().map(|p| p["hex"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn docomo_70_japanese_chars_are_one_single_pdu() {
    let v = segment_json("docomo", &jp(70), &[]);
    assert_eq!(v["encoding"], "ucs2");
    assert_eq!(v["data_coding"], 8);
    assert_eq!(v["chars"], 70);
    assert_eq!(v["method"], "single");
    assert_eq!((v["pdus"].as_u64(), v["billable"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["parts"][0]["field"], "short_message");
    assert_eq!(v["parts"][0]["esm_class_udhi"], false);
    let hex = &hex_parts(&v)[0];
    assert_eq!(hex.len(), 280);
    assert!(hex.starts_with("305452297528"), "ご利用 in UTF-16BE: {hex}");
}

#[test]
fn docomo_71_chars_are_two_udh16_pdus_billed_two() {
    let v = segment_json("docomo", &jp(71), &[]);
    assert_eq!(v["method"], "udh16");
    assert_eq!((v["pdus"].as_u64(), v["billable"].as_u64()), (Some(2), Some(2)));
    let parts = hex_parts(&v);
    // 06 08 04 RRRR TT SS with reference 1.
    assert!(parts[0].starts_with("06080400010201"), "{}", parts[0]);
    assert!(parts[1].starts_with("06080400010202"), "{}", parts[1]);
    assert_eq!(parts[0].len(), 2 * (7 + 66 * 2));
    assert_eq!(parts[1].len(), 2 * (7 + 5 * 2));
    assert!(v["parts"][0]["esm_class_udhi"].as_bool().unwrap());
}

#[test]
fn au_134_chars_bill_two() {
    let v = segment_json("au", &jp(134), &["--reference", "4660"]);
    assert_eq!(v["method"], "udh8");
    assert_eq!((v["pdus"].as_u64(), v["billable"].as_u64()), (Some(2), Some(2)));
    let parts = hex_parts(&v);
    assert!(parts[0].starts_with("050003340201"), "8-bit reference is the low octet: {}", parts[0]);
    assert_eq!(parts[0].len(), 280, "a full part is 140 octets");
}

#[test]
fn softbank_660_chars_are_one_payload_pdu_billed_once() {
    let v = segment_json("softbank", &jp(660), &[]);
    assert_eq!(v["method"], "payload");
    assert_eq!((v["pdus"].as_u64(), v["billable"].as_u64()), (Some(1), Some(1)));
    assert_eq!(v["parts"][0]["field"], "message_payload");
    assert_eq!(hex_parts(&v)[0].len(), 660 * 4);
}

#[test]
fn over_the_maximum_exits_2_with_the_count() {
    for carrier in ["softbank", "docomo"] {
        let out = smpp(&["segment", "--carrier", carrier, &jp(661)], "");
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!("text is 661 characters; {carrier} accepts at most 660")),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = smpp(&["segment", "--json", "--carrier", "au", &jp(700)], "");
    assert_eq!(out.status.code(), Some(2));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "too_long");
    assert_eq!((v["error"]["chars"].as_u64(), v["error"]["max"].as_u64()), (Some(700), Some(660)));
}

#[test]
fn gsm_escape_pair_is_not_split_across_parts() {
    // 151 'a', then '€' (ESC 0x65, 2 septets) would straddle docomo's 152-septet boundary.
    let text = format!("{}€{}", "a".repeat(151), "b".repeat(20));
    let v = segment_json("docomo", &text, &[]);
    assert_eq!(v["encoding"], "gsm7");
    assert_eq!(v["data_coding"], 0);
    assert_eq!(v["chars"], 173);
    assert_eq!(v["method"], "udh16");
    let parts = hex_parts(&v);
    assert_eq!(parts.len(), 2);
    let body0 = &parts[0][14..];
    let body1 = &parts[1][14..];
    assert_eq!(body0.len(), 151 * 2, "part 1 stops before the escape pair");
    assert!(!body0.ends_with("1b"), "{body0}");
    assert!(body1.starts_with("1b65"), "{body1}");
}

#[test]
fn reads_the_text_from_stdin_without_its_newline() {
    let from_arg = segment_json("au", &jp(80), &[]);
    let out = smpp(&["segment", "--json", "--carrier", "au"], &format!("{}\n", jp(80)));
    assert!(out.status.success());
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(from_stdin, from_arg);
}

#[test]
fn text_output_lists_every_pdu() {
    let out = smpp(&["segment", "--carrier", "docomo", &jp(140)], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "carrier   docomo");
    assert_eq!(lines[1], "encoding  ucs2 (data_coding 0x08)");
    assert_eq!(lines[2], "chars     140 (at most 660)");
    assert_eq!(lines[3], "pdus      3");
    assert_eq!(lines[4], "billable  3");
    assert_eq!(lines[5], "method    udh16");
    assert!(lines[6].starts_with("pdu 1 short_message udhi 06080400010301"), "{}", lines[6]);
    assert!(lines[8].starts_with("pdu 3 short_message udhi 06080400010303"), "{}", lines[8]);
    assert_eq!(lines.len(), 9);
}

#[test]
fn sar_splits_with_tlvs_and_bills_by_the_carrier_rule() {
    let v = segment_json("au", &jp(134), &["--sar", "--reference", "513"]);
    assert_eq!(v["method"], "sar");
    // SAR parts hold 66 characters, so 134 needs 3 PDUs; au still bills 2 (71-134).
    assert_eq!((v["pdus"].as_u64(), v["billable"].as_u64()), (Some(3), Some(2)));
    for (i, p) in v["parts"].as_array().unwrap().iter().enumerate() {
        assert_eq!(p["esm_class_udhi"], false);
        assert_eq!(p["sar"]["msg_ref_num"], 513);
        assert_eq!(p["sar"]["total_segments"], 3);
        assert_eq!(p["sar"]["segment_seqnum"], i + 1);
    }
    assert!(hex_parts(&v)[0].starts_with("3054"), "no UDH in SAR parts");
}

#[test]
fn unknown_carrier_is_a_usage_error_listing_the_known_ones() {
    let out = smpp(&["segment", "--carrier", "ymobile", "hi"], "");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("docomo, au, softbank, rakuten"), "{err}");
}
