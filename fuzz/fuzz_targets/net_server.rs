//! What a server parses from a client, without sockets. The first byte picks:
//! 0: one frame read under the server's HELLO bound, then `Hello::decode` (a decoded HELLO
//!    re-encodes to its payload);
//! 1: the client's CHALLENGE frames while the server proves the fixed model (clear advice);
//! 2: the same for a small matrix product.
#![no_main]

use gkrnet::gkr;
use gkrnet::matmul::{self, Shape};
use gkrnet::net::{read_frame, Hello, NetProver};
use libfuzzer_sys::fuzz_target;
use std::io::{sink, Cursor};
use std::sync::OnceLock;

fn witness() -> &'static gkrnet::circuit::Witness {
    static W: OnceLock<gkrnet::circuit::Witness> = OnceLock::new();
    W.get_or_init(|| {
        let keys = gkrnet_fuzz::keys();
        keys.clear_model().forward(&keys.clear_input).expect("the fixed input fits")
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Some((&which, rest)) = bytes.split_first() else { return };
    match which % 3 {
        0 => {
            // the server's bound: its model's input or two 2^16-element matrices
            let Ok(frame) = read_frame(&mut Cursor::new(rest), 15 + 2 * (1 << 16)) else { return };
            if let Ok(hello) = Hello::decode(&frame.payload) {
                assert_eq!(hello.encode(), frame.payload, "a HELLO re-encodes otherwise");
            }
        }
        1 => {
            let keys = gkrnet_fuzz::keys();
            let mut p = NetProver::new(Cursor::new(rest), sink());
            let mode = gkrnet::gkr::AdviceMode::Clear;
            let _ = gkr::prove(
                keys.clear_model(),
                &witness().tensors[0],
                &gkr::ProveOptions::advice(mode).with_witness(witness()),
                &mut p,
            );
            let _ = p.finish();
        }
        _ => {
            let (m, n, k) = (3, 5, 2);
            let a: Vec<i8> = (0..m * n).map(|i| (i as i8).wrapping_mul(37)).collect();
            let b: Vec<i8> = (0..n * k).map(|i| (i as i8).wrapping_mul(-59)).collect();
            let c = matmul::gemm::gemm_i8(&a, &b, m, n, k).expect("a small product");
            let mut p = NetProver::new(Cursor::new(rest), sink());
            let _ = matmul::prove_product(&Shape { m, n, k }, &a, &b, &c, &mut p);
            let _ = p.finish();
        }
    }
});
