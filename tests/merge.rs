//! Claim merging: honest merges verify and the merged claim is f̃(ρ); a false claim among true
//! ones, tampered messages and a claim chosen after γ are rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::One;
use common::*;
use gkrnet::error::VerifyError;
use gkrnet::field::Fp;
use gkrnet::merge;
use gkrnet::poly::evaluate_padded;
use gkrnet::sumcheck::EvalClaim;
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};

fn claims(f: &[Fp], points: usize, num_vars: usize, seed: u64) -> Vec<EvalClaim> {
    let mut rng = rng(seed);
    (0..points)
        .map(|_| {
            let point = random_vec(&mut rng, num_vars);
            EvalClaim { value: evaluate_padded(f, &point), point }
        })
        .collect()
}

fn prove(claims: &[EvalClaim], f: &[Fp]) -> Vec<u8> {
    let mut t = FiatShamirProver::new(labels::PROTOCOL);
    let merged = merge::prove(claims, f, &mut t).expect("honest merge");
    assert_eq!(merged.value, evaluate_padded(f, &merged.point));
    t.into_proof().encode()
}

/// The verifier and the caller's final check against f.
fn verify(
    claims: &[EvalClaim],
    f: &[Fp],
    num_vars: usize,
    proof: &[u8],
) -> Result<(), VerifyError> {
    let mut t = FiatShamirVerifier::new(labels::PROTOCOL, proof)?;
    let merged = merge::verify(claims, num_vars, &mut t)?;
    merged.check(evaluate_padded(f, &merged.point), "merged claim")?;
    t.finish()
}

#[test]
fn honest_merges_verify() {
    for seed in 0..60u64 {
        let num_vars = (seed % 9) as usize;
        let f = random_vec(&mut rng(seed + 1000), 1 << num_vars);
        let c = claims(&f, 1 + (seed % 5) as usize, num_vars, seed);
        verify(&c, &f, num_vars, &prove(&c, &f)).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

#[test]
fn one_false_claim_among_true_ones_is_rejected() {
    for seed in 0..30u64 {
        let f = random_vec(&mut rng(seed + 2000), 64);
        let mut c = claims(&f, 4, 6, seed);
        let i = (seed % 4) as usize;
        c[i].value += Fp::one();
        // the honest prover refuses; a proof for the true claims does not fit the false ones
        let mut t = FiatShamirProver::new(labels::PROTOCOL);
        assert!(merge::prove(&c, &f, &mut t).is_err());
        let mut good = c.clone();
        good[i].value -= Fp::one();
        assert!(matches!(
            verify(&c, &f, 6, &prove(&good, &f)),
            Err(VerifyError::FinalEvalMismatch { .. })
        ));
    }
}

#[test]
fn tampered_messages_are_rejected() {
    let f = random_vec(&mut rng(3), 32);
    let c = claims(&f, 3, 5, 3);
    let proof = prove(&c, &f);
    for (m, slot) in [(0, 0), (2, 1), (4, 0)] {
        let bad = edit(&proof, |p| p.messages[m].values[slot] += Fp::one());
        assert!(
            matches!(verify(&c, &f, 5, &bad), Err(VerifyError::FinalEvalMismatch { .. })),
            "message {m}"
        );
    }
    // w(ρ) and f(ρ) scaled against each other: the product still fits, w does not
    let two = Fp::from(2u64);
    let bad = edit(&proof, |p| {
        let last = p.messages.last_mut().unwrap();
        last.values[0] *= two;
        last.values[1] *= ark_ff::Field::inverse(&two).unwrap();
    });
    assert!(matches!(
        verify(&c, &f, 5, &bad),
        Err(VerifyError::EvalMismatch { what: "Σ γⁱ·eq(rᵢ, ρ) in a claim merge", .. })
    ));
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i] ^= 1;
        assert!(verify(&c, &f, 5, &bad).is_err(), "byte {i}");
    }
}

#[test]
fn shapes_are_checked() {
    let f = random_vec(&mut rng(4), 16);
    let c = claims(&f, 2, 4, 4);
    let proof = prove(&c, &f);
    assert!(matches!(verify(&c, &f, 5, &proof), Err(VerifyError::InvalidStatement { .. })));
    assert!(matches!(verify(&[], &f, 4, &proof), Err(VerifyError::InvalidStatement { .. })));
}

/// A claim value changed after the prover saw γ: the claims are absorbed before γ, so the
/// verifier's γ differs and the proof no longer fits.
#[test]
fn a_claim_changed_after_gamma_is_rejected() {
    let f = random_vec(&mut rng(5), 16);
    let c = claims(&f, 3, 4, 5);
    let proof = prove(&c, &f);
    let mut late = c.clone();
    late[2].point[0] += Fp::one();
    late[2].value = evaluate_padded(&f, &late[2].point);
    assert!(verify(&late, &f, 4, &proof).is_err());
}
