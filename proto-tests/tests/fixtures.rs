//! Runs the PDU fixture corpus (`fixtures/decode/*.json`) through the `smpp pdu` JSON contract.
//!
//! Each fixture holds the bytes of one PDU (or a malformed one), whether strict mode applies,
//! and the exact JSON `smpp pdu decode` must print. Successful decodes must also encode back to
//! the same bytes, and the whole corpus must frame identically as one byte stream.

use std::path::PathBuf;

use serde_json::Value;
use smpp_cli::api::{decode_hex, encode_json, split_frames};

struct Fixture {
    name: String,
    hex: String,
    strict: bool,
    expect: Value,
}

fn fixtures() -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/decode");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/decode exists") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            out.push(Fixture {
                name: v["name"].as_str().unwrap().to_string(),
                hex: v["hex"].as_str().unwrap().to_string(),
                strict: v["strict"].as_bool().unwrap(),
                expect: v["expect"].clone(),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 60, "the corpus shrank to {} fixtures", out.len());
    out
}

fn compact(hex: &str) -> String {
    hex.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn every_fixture_decodes_to_its_expected_json() {
    for f in fixtures() {
        let got = decode_hex(&f.hex, f.strict);
        assert_eq!(got, f.expect, "fixture {}", f.name);
    }
}

#[test]
fn every_valid_fixture_encodes_back_to_the_same_bytes() {
    let mut checked = 0;
    for f in fixtures().into_iter().filter(|f| f.expect.get("error").is_none()) {
        let hex = encode_json(&f.expect).unwrap_or_else(|e| panic!("fixture {}: {e}", f.name));
        assert_eq!(hex, compact(&f.hex), "fixture {}", f.name);
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} valid fixtures");
}

#[test]
fn the_corpus_as_one_stream_frames_into_the_same_pdus() {
    let whole: Vec<Fixture> = fixtures()
        .into_iter()
        .filter(|f| {
            !f.strict
                && f.expect.pointer("/error/then").and_then(Value::as_str)
                    != Some("close_connection")
        })
        .filter(|f| f.expect.pointer("/error/kind").and_then(Value::as_str) != Some("incomplete"))
        .collect();
    let stream: String = whole.iter().map(|f| compact(&f.hex)).collect();
    let frames =
        split_frames(&stream, false, smpp_codec::Framer::DEFAULT_MAX_COMMAND_LENGTH).unwrap();
    assert_eq!(frames.len(), whole.len());
    for (f, got) in whole.iter().zip(&frames) {
        assert_eq!(got, &f.expect, "fixture {} inside the stream", f.name);
    }
}

#[test]
fn every_malformed_fixture_has_a_consistent_answer() {
    for f in fixtures() {
        let Some(e) = f.expect.get("error") else { continue };
        let then = e["then"].as_str().unwrap();
        let reply = &e["reply"];
        match then {
            "wait_for_more_bytes" => assert!(reply.is_null(), "{}", f.name),
            "close_connection" => {
                assert_eq!(reply["command_name"], "generic_nack", "{}", f.name);
                assert_eq!(reply["status_name"], "ESME_RINVCMDLEN", "{}", f.name);
            }
            "continue" => {}
            other => panic!("{}: unknown then {other}", f.name),
        }
        if !reply.is_null() {
            // A reply is always header-only and never answers a response.
            let command_id = reply["command_id"].as_u64().unwrap();
            assert!(command_id & 0x8000_0000 != 0, "{}: reply must be a response", f.name);
            assert_ne!(reply["command_status"], 0, "{}: reply must carry an error", f.name);
        }
    }
}
