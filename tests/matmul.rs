//! Matrix-product proofs: honest products verify for many shapes and seeds; every cheat named in
//! the issue is rejected with the exact error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::One;
use common::oracles::naive_matmul;
use common::*;
use gkrnet::error::{ProveError, VerifyError};
use gkrnet::field::Fp;
use gkrnet::matmul::{self, Shape};
use gkrnet::poly::evaluate_matrix_i32;
use gkrnet::sumcheck::decompress_round;
use gkrnet::transcript::{labels, FiatShamirProver, ProverTranscript, Transcript};
use rand::Rng;

struct Case {
    shape: Shape,
    a: Vec<i8>,
    b: Vec<i8>,
    c: Vec<i32>,
}

fn case(seed: u64, m: usize, n: usize, k: usize) -> Case {
    let mut rng = rng(seed);
    let a = random_i8(&mut rng, m * n);
    let b = random_i8(&mut rng, n * k);
    let c = naive_matmul(&a, &b, m, n, k);
    Case { shape: Shape { m, n, k }, a, b, c }
}

fn prove(x: &Case) -> Vec<u8> {
    matmul::prove_bytes(&x.shape, &x.a, &x.b, &x.c).expect("honest product")
}

fn verify(x: &Case, proof: &[u8]) -> Result<(), VerifyError> {
    matmul::verify_bytes(&x.shape, &x.a, &x.b, &x.c, proof)
}

#[test]
fn honest_products_verify_for_many_shapes_and_seeds() {
    let mut count = 0;
    for seed in 0..500u64 {
        let mut rng = rng(seed);
        let (m, n, k) = match seed % 5 {
            0 => (1, 1, 1),
            1 => (rng.gen_range(1..20), rng.gen_range(1..20), 1), // matrix–vector
            2 => (rng.gen_range(1..9), 16, rng.gen_range(1..9)),
            _ => (rng.gen_range(1..24), rng.gen_range(1..40), rng.gen_range(1..24)),
        };
        let x = case(seed, m, n, k);
        verify(&x, &prove(&x)).unwrap_or_else(|e| panic!("seed {seed} {m}×{n}×{k}: {e}"));
        count += 1;
    }
    assert_eq!(count, 500);
}

#[test]
fn extreme_values_and_larger_shapes_verify() {
    for (m, n, k) in [(64, 300, 33), (5, 4097, 3), (200, 129, 1)] {
        for fill in [i8::MIN, i8::MAX] {
            let a = vec![fill; m * n];
            let b = vec![i8::MIN; n * k];
            let c = naive_matmul(&a, &b, m, n, k);
            let x = Case { shape: Shape { m, n, k }, a, b, c };
            verify(&x, &prove(&x)).unwrap();
        }
    }
}

#[test]
fn one_entry_of_c_changed_by_one_is_rejected() {
    let mut rejected = 0;
    for seed in 0..1000u64 {
        let x = case(10_000 + seed, 3 + (seed as usize % 5), 7, 4 + (seed as usize % 3));
        let proof = prove(&x);
        let len = x.c.len();
        let position = match seed % 3 {
            0 => 0,
            1 => len - 1,
            _ => rng(seed).gen_range(0..len),
        };
        let mut bad = Case { shape: x.shape, a: x.a.clone(), b: x.b.clone(), c: x.c.clone() };
        bad.c[position] += if seed % 2 == 0 { 1 } else { -1 };
        assert!(
            matches!(verify(&bad, &proof), Err(VerifyError::FinalEvalMismatch { .. })),
            "seed {seed}, position {position}"
        );
        // and the honest prover refuses to prove the wrong product
        assert_eq!(
            matmul::prove_bytes(&bad.shape, &bad.a, &bad.b, &bad.c),
            Err(ProveError::ClaimedSumMismatch)
        );
        rejected += 1;
    }
    assert_eq!(rejected, 1000);
}

/// A cheater for a wrong C: it absorbs the wrong C (it must: the verifier does), then fixes every
/// round so that g(0) + g(1) matches the running claim, and picks B̃(ρ, r_col) after the last
/// challenge so that the sumcheck's own final check passes. Only the verifier's evaluation of B
/// catches it.
#[test]
fn adaptive_cheater_for_a_wrong_c_is_caught_by_the_verifiers_evaluation() {
    for seed in 0..50u64 {
        let x = case(20_000 + seed, 4, 9, 3);
        let mut c = x.c.clone();
        let len = c.len();
        c[seed as usize % len] += 1;
        let shape = x.shape;
        let mut t = FiatShamirProver::new(matmul::PROTOCOL);
        matmul::absorb_statement(&mut t, &shape, &x.a, &x.b, &c);
        let r_col = t.challenges(labels::MATMUL_POINT, shape.col_vars());
        let r_row = t.challenges(labels::MATMUL_POINT, shape.row_vars());
        let mut running = evaluate_matrix_i32(&c, shape.m, shape.k, &r_col, &r_row);
        gkrnet::sumcheck::absorb_claim(
            &mut t,
            &gkrnet::sumcheck::SumcheckClaim {
                num_vars: shape.inner_vars(),
                degree: 2,
                claimed_sum: running,
            },
        );
        let mut rng = rng(seed);
        for _ in 0..shape.inner_vars() {
            let msg = random_vec(&mut rng, 2);
            t.send(labels::SUMCHECK_ROUND, &msg);
            let r = t.challenge(labels::SUMCHECK_CHALLENGE);
            running = decompress_round(&msg, running).evaluate(&r);
        }
        let a_eval = Fp::one();
        t.send(labels::SUMCHECK_FINAL_EVALS, &[a_eval, running]);
        let proof = t.into_proof().encode();
        let bad = Case { shape, a: x.a.clone(), b: x.b.clone(), c };
        assert!(
            matches!(
                verify(&bad, &proof),
                Err(VerifyError::EvalMismatch { what: "Ã(r_row, ρ) from A", .. })
            ),
            "seed {seed}"
        );
    }
}

/// A cheater that waits for the challenges of the honest statement and only then swaps in another
/// C: the verifier absorbs the C it is given, so its challenges differ and the proof fails.
#[test]
fn a_c_chosen_after_the_challenges_is_rejected() {
    for seed in 0..50u64 {
        let x = case(30_000 + seed, 6, 5, 6);
        let proof = prove(&x);
        let mut c = x.c.clone();
        c.swap(0, 1);
        if c == x.c {
            c[0] += 1;
        }
        let bad = Case { shape: x.shape, a: x.a.clone(), b: x.b.clone(), c };
        assert!(verify(&bad, &proof).is_err());
    }
}

#[test]
fn swapped_a_and_b_are_rejected() {
    let x = case(1, 6, 6, 6);
    let proof = prove(&x);
    let swapped = Case { shape: x.shape, a: x.b.clone(), b: x.a.clone(), c: x.c.clone() };
    assert!(matches!(verify(&swapped, &proof), Err(VerifyError::FinalEvalMismatch { .. })));
}

#[test]
fn a_transposed_b_is_rejected() {
    let x = case(2, 5, 7, 7);
    let proof = prove(&x);
    let mut bt = vec![0i8; 49];
    for i in 0..7 {
        for j in 0..7 {
            bt[j * 7 + i] = x.b[i * 7 + j];
        }
    }
    let bad = Case { shape: x.shape, a: x.a.clone(), b: bt, c: x.c.clone() };
    assert!(matches!(verify(&bad, &proof), Err(VerifyError::FinalEvalMismatch { .. })));
}

#[test]
fn tampered_rounds_and_final_claims_are_rejected() {
    let x = case(3, 9, 33, 5);
    let proof = prove(&x);
    let rounds = x.shape.inner_vars();
    for round in [0, rounds / 2, rounds - 1] {
        let bad = edit(&proof, |p| p.messages[round].values[1] += Fp::one());
        assert!(
            matches!(verify(&x, &bad), Err(VerifyError::FinalEvalMismatch { .. })),
            "round {round}"
        );
    }
    for j in 0..2 {
        let bad = edit(&proof, |p| p.messages[rounds].values[j] += Fp::one());
        assert!(
            matches!(verify(&x, &bad), Err(VerifyError::FinalEvalMismatch { .. })),
            "final {j}"
        );
    }
    // a final claim changed consistently (both factors scaled) passes the sumcheck but not the
    // verifier's own evaluation of A
    let two = Fp::from(2u64);
    let half = ark_ff::Field::inverse(&two).unwrap();
    let bad = edit(&proof, |p| {
        p.messages[rounds].values[0] *= two;
        p.messages[rounds].values[1] *= half;
    });
    assert!(matches!(verify(&x, &bad), Err(VerifyError::EvalMismatch { .. })));
}

#[test]
fn shapes_that_differ_from_the_data_are_rejected() {
    let x = case(4, 4, 6, 3);
    let proof = prove(&x);
    for shape in [
        Shape { m: 4, n: 3, k: 6 },
        Shape { m: 6, n: 4, k: 3 },
        Shape { m: 4, n: 7, k: 3 },
        Shape { m: 0, n: 6, k: 3 },
    ] {
        let bad = Case { shape, a: x.a.clone(), b: x.b.clone(), c: x.c.clone() };
        assert!(
            matches!(verify(&bad, &proof), Err(VerifyError::InvalidStatement { .. })),
            "{shape:?}"
        );
    }
    // an inner dimension whose accumulator could overflow is refused on both sides
    let big = Shape { m: 1, n: 1 << 17, k: 1 };
    let a = vec![1i8; 1 << 17];
    assert!(matches!(
        matmul::prove_bytes(&big, &a, &a, &[1 << 17]),
        Err(ProveError::InvalidShape { .. })
    ));
    assert!(matches!(
        matmul::verify_bytes(&big, &a, &a, &[1 << 17], &proof),
        Err(VerifyError::InvalidStatement { .. })
    ));
}

#[test]
fn byte_flips_truncations_and_extensions_are_rejected() {
    let x = case(5, 7, 20, 3);
    let proof = prove(&x);
    verify(&x, &proof).unwrap();
    for i in 0..proof.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = proof.clone();
            bad[i] ^= mask;
            assert!(verify(&x, &bad).is_err(), "byte {i} ^ {mask:#x}");
        }
    }
    for len in 0..proof.len() {
        assert!(verify(&x, &proof[..len]).is_err(), "truncated to {len}");
    }
    let mut long = proof.clone();
    long.push(0);
    assert!(matches!(verify(&x, &long), Err(VerifyError::TrailingBytes { remaining: 1, .. })));
}

#[test]
fn proofs_are_small() {
    let x = case(6, 3, 4096, 2);
    let proof = prove(&x);
    // 12 rounds of two elements, two final evaluations, frames and header
    assert_eq!(proof.len(), 6 + 12 * (8 + 32) + 8 + 32);
    verify(&x, &proof).unwrap();
}

/// The statement (shapes and the three digests) is absorbed before the first challenge, and every
/// prover message before the challenge that follows it.
#[test]
fn the_statement_is_bound_before_the_first_challenge() {
    use gkrnet::transcript::{Event, Recording};
    let x = case(7, 5, 9, 3);
    let mut t = Recording::new(FiatShamirProver::new(matmul::PROTOCOL));
    matmul::prove_product(&x.shape, &x.a, &x.b, &x.c, &mut t).unwrap();
    let first = t.events.iter().position(|e| matches!(e, Event::Challenge(_))).unwrap();
    for label in [labels::MATMUL_SHAPE, labels::MATMUL_A, labels::MATMUL_B, labels::MATMUL_C] {
        assert!(
            t.events[..first].contains(&Event::Append(label)),
            "{label} absorbed after a challenge"
        );
    }
    // after the point: claim, then (round, challenge) pairs, then the two evaluations
    let body: Vec<&Event> = t.events[first..]
        .iter()
        .filter(|e| !matches!(e, Event::Append(_) | Event::Challenge(labels::MATMUL_POINT)))
        .collect();
    let rounds = x.shape.inner_vars();
    for pair in body[..2 * rounds].chunks(2) {
        assert_eq!(*pair[0], Event::Send(labels::SUMCHECK_ROUND, 2));
        assert_eq!(*pair[1], Event::Challenge(labels::SUMCHECK_CHALLENGE));
    }
    assert_eq!(*body[2 * rounds], Event::Send(labels::SUMCHECK_FINAL_EVALS, 2));
}
