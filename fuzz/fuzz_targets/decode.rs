//! Frames the input as a byte stream, decodes every frame tolerantly and strictly, and checks
//! that whatever decodes re-encodes to the same bytes and decodes back to the same PDU.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use smpp_codec::{DecodeOptions, Framer, Pdu, Then};

fuzz_target!(|data: &[u8]| {
    // A small maximum so that random lengths often land inside it.
    let framer = Framer::new(4096);
    let mut read_buf = BytesMut::from(data);
    loop {
        let frame = match framer.next_frame(&mut read_buf) {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(e) => {
                assert_eq!(e.then(), Then::CloseConnection);
                assert!(e.reply().is_some(), "a framing error is answered");
                break;
            }
        };
        assert!(frame.len() >= 16 && frame.len() <= 4096);
        for opts in [DecodeOptions::TOLERANT, DecodeOptions::STRICT] {
            match Pdu::decode_with(frame.clone(), opts) {
                Ok(pdu) => {
                    let mut out = BytesMut::new();
                    pdu.encode(&mut out);
                    assert_eq!(pdu.encoded_len(), out.len());
                    assert_eq!(&out[..], &frame[..], "decode → encode changed the bytes");
                    let again = Pdu::decode_with(out.freeze(), opts).expect("re-encoded PDU");
                    assert_eq!(again, pdu, "decode(encode(pdu)) != pdu");
                }
                Err(e) => {
                    // Must not panic, and a framed PDU never loses framing.
                    let _ = e.to_string();
                    let _ = e.reply();
                    assert_ne!(e.then(), Then::CloseConnection);
                }
            }
        }
    }
});
