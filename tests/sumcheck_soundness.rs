//! Invariant: the sumcheck verifier (with the caller's final check) rejects every proof that does
//! not come from the honest prover on the claimed polynomial, with the exact error named here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::{One, UniformRand};
use common::*;
use gkrnet::error::VerifyError;
use gkrnet::field::Fp;
use gkrnet::proof::Message;
use gkrnet::sumcheck::{self, decompress_round, prover::ProductSum, Term};
use gkrnet::transcript::{labels, FiatShamirProver, ProverTranscript, Transcript};

const NUM_VARS: usize = 6;

/// A product of two tables (the matrix-product shape) with its honest proof.
fn fixture(seed: u64) -> (ProductSum, gkrnet::sumcheck::SumcheckClaim, Vec<u8>) {
    let mut rng = rng(seed);
    let poly = random_instance(&mut rng, NUM_VARS, 2, vec![Term::product(vec![0, 1])]);
    let (claim, proof) = honest_proof(&poly, PROTOCOL);
    (poly, claim, proof)
}

fn check(
    poly: &ProductSum,
    claim: &gkrnet::sumcheck::SumcheckClaim,
    proof: &[u8],
) -> Result<(), VerifyError> {
    verify_all(claim, poly.terms(), poly.tables(), proof, PROTOCOL).map(|_| ())
}

fn is_final_mismatch(r: Result<(), VerifyError>) -> bool {
    matches!(r, Err(VerifyError::FinalEvalMismatch { .. }))
}

#[test]
fn honest_fixture_verifies() {
    let (poly, claim, proof) = fixture(1);
    check(&poly, &claim, &proof).unwrap();
}

#[test]
fn wrong_claimed_sum_is_rejected() {
    let (poly, mut claim, proof) = fixture(2);
    claim.claimed_sum += Fp::one();
    assert!(is_final_mismatch(check(&poly, &claim, &proof)));
}

#[test]
fn tampered_first_middle_and_last_round_are_rejected() {
    for round in [0, NUM_VARS / 2, NUM_VARS - 1] {
        for slot in 0..2 {
            let (poly, claim, proof) = fixture(3 + round as u64);
            let bad = edit(&proof, |p| p.messages[round].values[slot] += Fp::one());
            assert!(is_final_mismatch(check(&poly, &claim, &bad)), "round {round} slot {slot}");
        }
    }
}

#[test]
fn swapped_rounds_are_rejected() {
    let (poly, claim, proof) = fixture(4);
    for (i, j) in [(0, 1), (1, NUM_VARS - 1), (NUM_VARS - 2, NUM_VARS - 1)] {
        let bad = edit(&proof, |p| p.messages.swap(i, j));
        assert!(is_final_mismatch(check(&poly, &claim, &bad)), "swap {i} {j}");
    }
}

#[test]
fn replayed_rounds_are_rejected() {
    let (poly, claim, proof) = fixture(5);
    for i in 1..NUM_VARS {
        let bad = edit(&proof, |p| p.messages[i] = p.messages[i - 1].clone());
        assert!(is_final_mismatch(check(&poly, &claim, &bad)), "replay into {i}");
    }
}

#[test]
fn too_few_rounds_are_rejected() {
    let (poly, claim, proof) = fixture(6);
    let bad = edit(&proof, |p| {
        p.messages.remove(NUM_VARS - 1);
    });
    assert_eq!(
        check(&poly, &claim, &bad),
        Err(VerifyError::WrongRoundCount { expected: NUM_VARS, got: NUM_VARS - 1 })
    );
    // the rounds alone, without what follows: the proof ends where a round belongs
    let bad = edit(&proof, |p| p.messages.truncate(NUM_VARS - 2));
    assert_eq!(
        check(&poly, &claim, &bad),
        Err(VerifyError::WrongRoundCount { expected: NUM_VARS, got: NUM_VARS - 2 })
    );
}

#[test]
fn too_many_rounds_are_rejected() {
    let (poly, claim, proof) = fixture(7);
    let bad = edit(&proof, |p| {
        let extra = p.messages[NUM_VARS - 1].clone();
        p.messages.insert(NUM_VARS, extra);
    });
    assert_eq!(check(&poly, &claim, &bad), Err(VerifyError::TooManyRounds { expected: NUM_VARS }));
}

#[test]
fn degree_above_the_bound_is_rejected() {
    let (poly, claim, proof) = fixture(8);
    for round in [0, NUM_VARS - 1] {
        let bad = edit(&proof, |p| p.messages[round].values.push(Fp::one()));
        assert_eq!(
            check(&poly, &claim, &bad),
            Err(VerifyError::DegreeTooHigh { round, got: 3, max: 2 })
        );
    }
}

#[test]
fn wrong_final_evaluation_is_rejected() {
    let (poly, claim, proof) = fixture(9);
    for j in 0..2 {
        let bad = edit(&proof, |p| p.messages[NUM_VARS].values[j] += Fp::one());
        assert!(is_final_mismatch(check(&poly, &claim, &bad)), "factor {j}");
    }
}

#[test]
fn a_different_transcript_label_is_rejected() {
    let (poly, claim, proof) = fixture(10);
    let r = verify_all(&claim, poly.terms(), poly.tables(), &proof, "gkrnet v0");
    assert!(matches!(r, Err(VerifyError::FinalEvalMismatch { .. })));
}

#[test]
fn a_proof_for_another_polynomial_with_the_same_sum_is_caught_by_the_caller() {
    let (poly, claim, _) = fixture(11);
    // permute the hypercube: both tables swap entries 0 and 1, the sum of products is unchanged
    let mut other: Vec<Vec<Fp>> = poly.tables().to_vec();
    for t in &mut other {
        t.swap(0, 1);
    }
    let other = ProductSum::product(other).unwrap();
    assert_eq!(other.sum(), claim.claimed_sum);
    let (other_claim, proof) = honest_proof(&other, PROTOCOL);
    assert_eq!(other_claim, claim);
    // the sumcheck itself accepts: only the caller's check against its own tables rejects
    let mut t = gkrnet::transcript::FiatShamirVerifier::new(PROTOCOL, &proof).unwrap();
    let eval = sumcheck::verify(&claim, &mut t).unwrap();
    sumcheck::verify_final_evals(poly.terms(), 2, &eval, &mut t).unwrap();
    assert!(matches!(
        check(&poly, &claim, &proof),
        Err(VerifyError::EvalMismatch { what: "factor evaluation", .. })
    ));
}

#[test]
fn invalid_claims_are_refused_before_reading() {
    let (poly, mut claim, proof) = fixture(12);
    claim.degree = 0;
    assert!(matches!(check(&poly, &claim, &proof), Err(VerifyError::InvalidClaim { .. })));
    claim.degree = 2;
    claim.num_vars = 1000;
    assert!(matches!(check(&poly, &claim, &proof), Err(VerifyError::InvalidClaim { .. })));
}

/// An adaptive cheater for a false sum: each round message is chosen after the previous
/// challenge so that g(0) + g(1) matches the running (false) sum, and the final factor values are
/// chosen after the last challenge so that their product matches the final running value. The
/// sumcheck's own checks pass; the caller's evaluation of the tables catches it.
#[test]
fn adaptive_cheater_with_a_false_sum_is_caught_by_the_final_check() {
    for seed in 0..20 {
        let (poly, mut claim, _) = fixture(100 + seed);
        claim.claimed_sum += Fp::one();
        let mut rng = rng(200 + seed);
        let mut t = FiatShamirProver::new(PROTOCOL);
        sumcheck::absorb_claim(&mut t, &claim);
        let mut running = claim.claimed_sum;
        for _ in 0..NUM_VARS {
            // any g with g(0) + g(1) = running: the verifier cannot tell from one round
            let msg = vec![Fp::rand(&mut rng), Fp::rand(&mut rng)];
            t.send(labels::SUMCHECK_ROUND, &msg);
            let r = t.challenge(labels::SUMCHECK_CHALLENGE);
            running = decompress_round(&msg, running).evaluate(&r);
        }
        // pick f₀(r) at random and f₁(r) = running / f₀(r): passes the combination check
        let f0 = Fp::rand(&mut rng);
        let f1 = running * ark_ff::Field::inverse(&f0).unwrap();
        t.send(labels::SUMCHECK_FINAL_EVALS, &[f0, f1]);
        let proof = t.into_proof().encode();
        assert!(
            matches!(check(&poly, &claim, &proof), Err(VerifyError::EvalMismatch { .. })),
            "seed {seed}"
        );
    }
}

/// A cheater that reuses the messages of an honest proof for claim S under a false claim S':
/// the claim is absorbed first, so every challenge changes and the rounds no longer fit.
#[test]
fn honest_messages_reused_for_another_claim_are_rejected() {
    let (poly, mut claim, proof) = fixture(13);
    claim.claimed_sum = claim.claimed_sum.double();
    use ark_ff::AdditiveGroup;
    assert!(is_final_mismatch(check(&poly, &claim, &proof)));
}

#[test]
fn every_message_kind_in_the_wrong_place_is_named() {
    let (poly, claim, proof) = fixture(14);
    let bad = edit(&proof, |p| {
        p.messages.insert(0, Message::new(labels::SUMCHECK_FINAL_EVALS, vec![Fp::one(); 2]))
    });
    assert_eq!(
        check(&poly, &claim, &bad),
        Err(VerifyError::WrongRoundCount { expected: NUM_VARS, got: 0 })
    );
    let bad = edit(&proof, |p| p.messages[0].tag ^= 1);
    assert!(matches!(
        check(&poly, &claim, &bad),
        Err(VerifyError::UnexpectedMessage {
            offset: 6,
            expected: labels::SUMCHECK_ROUND,
            found: "unknown"
        })
    ));
}
