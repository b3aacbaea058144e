//! Invariant: no change to the bytes of an honest proof (a flipped byte anywhere, a truncation at
//! any length, appended bytes or messages) makes decode + verify return Ok, and none panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::*;
use gkrnet::sumcheck::Term;

fn fixture() -> (gkrnet::sumcheck::prover::ProductSum, gkrnet::sumcheck::SumcheckClaim, Vec<u8>) {
    let mut rng = rng(21);
    let poly = random_instance(&mut rng, 4, 3, vec![Term::product(vec![0, 1, 2])]);
    let (claim, proof) = honest_proof(&poly, PROTOCOL);
    (poly, claim, proof)
}

#[test]
fn every_byte_flipped_is_rejected() {
    let (poly, claim, proof) = fixture();
    verify_all(&claim, poly.terms(), poly.tables(), &proof, PROTOCOL).unwrap();
    for i in 0..proof.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = proof.clone();
            bad[i] ^= mask;
            let r = verify_all(&claim, poly.terms(), poly.tables(), &bad, PROTOCOL);
            assert!(r.is_err(), "byte {i} ^ {mask:#x} accepted");
        }
    }
}

#[test]
fn every_truncation_is_rejected() {
    let (poly, claim, proof) = fixture();
    for len in 0..proof.len() {
        let r = verify_all(&claim, poly.terms(), poly.tables(), &proof[..len], PROTOCOL);
        assert!(r.is_err(), "truncation to {len} bytes accepted");
    }
}

#[test]
fn extended_proofs_are_rejected() {
    let (poly, claim, proof) = fixture();
    for extra in [vec![0u8], vec![0u8; 8], vec![0xff; 16]] {
        let mut bad = proof.clone();
        bad.extend_from_slice(&extra);
        assert!(matches!(
            verify_all(&claim, poly.terms(), poly.tables(), &bad, PROTOCOL),
            Err(gkrnet::error::VerifyError::TrailingBytes { remaining, .. }) if remaining == extra.len()
        ));
    }
    // a whole extra, well-formed message
    let bad = edit(&proof, |p| {
        let last = p.messages.last().unwrap().clone();
        p.messages.push(last);
    });
    assert!(verify_all(&claim, poly.terms(), poly.tables(), &bad, PROTOCOL).is_err());
}

#[test]
fn random_multi_byte_corruptions_are_rejected() {
    use rand::Rng;
    let (poly, claim, proof) = fixture();
    let mut rng = rng(22);
    for _ in 0..2000 {
        let mut bad = proof.clone();
        for _ in 0..rng.gen_range(1..6) {
            let i = rng.gen_range(0..bad.len());
            bad[i] = rng.gen();
        }
        if bad == proof {
            continue;
        }
        assert!(verify_all(&claim, poly.terms(), poly.tables(), &bad, PROTOCOL).is_err());
    }
}
