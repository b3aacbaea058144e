//! What a client parses from a server, without sockets: the reply to its HELLO (ACCEPT checked by
//! `net::check_accept`, REFUSE), then MESSAGE frames turned into proof messages exactly as
//! `NetVerifier` does, each read for a label and length taken from the input.
#![no_main]

use gkrnet::net::{check_accept, kind, read_frame, task, MAX_TEXT};
use gkrnet::proof::{ProofReader, HEADER_BYTES, MAGIC, VERSION};
use gkrnet::transcript::labels::MESSAGES;
use libfuzzer_sys::fuzz_target;
use std::io::Cursor;

fuzz_target!(|bytes: &[u8]| {
    let mut r = Cursor::new(bytes);
    let Ok(reply) = read_frame(&mut r, MAX_TEXT) else { return };
    if reply.kind == kind::ACCEPT {
        let digest = gkrnet_fuzz::keys().clear.digest();
        let _ = check_accept(&reply.payload, task::MODEL, &digest);
        let _ = check_accept(&reply.payload, task::MATMUL, &[0; 32]);
    } else {
        let _ = String::from_utf8_lossy(&reply.payload);
    }
    // each message: what `verify` asks for (label u8, kind u8, length u16 LE), then a frame
    let mut ask = [0u8; 4];
    while std::io::Read::read_exact(&mut r, &mut ask).is_ok() {
        let label = MESSAGES[ask[0] as usize % MESSAGES.len()];
        let len = u16::from_le_bytes([ask[2], ask[3]]) as usize;
        let max_body = match ask[1] % 3 {
            0 => len * gkrnet::field::FIELD_BYTES,
            1 => len * 10,
            _ => len,
        };
        let Ok(frame) = read_frame(&mut r, 8 + max_body) else { return };
        if frame.kind != kind::MESSAGE {
            continue;
        }
        let mut stream = Vec::with_capacity(HEADER_BYTES + frame.payload.len());
        stream.extend_from_slice(&MAGIC);
        stream.extend_from_slice(&VERSION.to_le_bytes());
        stream.extend_from_slice(&frame.payload);
        let Ok(mut reader) = ProofReader::new(&stream) else { unreachable!("a valid header") };
        let read = match ask[1] % 3 {
            0 => reader.read(label, len).map(|v| v.len()),
            1 => reader.read_ints(label, len).map(|v| v.len()),
            _ => reader.read_bytes(label, len).map(<[u8]>::len),
        };
        if let Ok(n) = read {
            assert_eq!(n, len);
            let _ = reader.finish();
        }
    }
});
