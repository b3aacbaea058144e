//! LogUp lookups: honest lookups verify and leave correct claims; unbalanced lookups, tampered
//! messages and byte flips are rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::{One, Zero};
use common::*;
use gkrnet::error::{ProveError, VerifyError};
use gkrnet::field::Fp;
use gkrnet::lookup::{self, prover::multiplicities, LookupStatement, Table};
use gkrnet::poly::evaluate_padded;
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier, Transcript};
use rand::Rng;

const VALUES: &str = "test/values";
const MULTIPLICITIES: &str = "test/multiplicities";

/// The caller's binding of the witness before the lookup draws α.
fn bind(t: &mut impl Transcript, values: &[Fp], m: &[u64]) {
    t.append_fields(VALUES, values);
    let m: Vec<Fp> = m.iter().map(|x| Fp::from(*x)).collect();
    t.append_fields(MULTIPLICITIES, &m);
}

struct Case {
    stmt: LookupStatement,
    values: Vec<Fp>,
    m: Vec<u64>,
}

fn case(seed: u64, table_len: usize, num_values: usize) -> Case {
    let mut rng = rng(seed);
    let table: Vec<Fp> = (0..table_len as u64).map(|j| Fp::from(j * 7 + 3)).collect();
    let values: Vec<Fp> = (0..num_values).map(|_| table[rng.gen_range(0..table_len)]).collect();
    let m = multiplicities(&values, &table).unwrap();
    Case { stmt: LookupStatement { num_values, table: Table::Explicit(table) }, values, m }
}

fn prove(x: &Case) -> Vec<u8> {
    let mut t = FiatShamirProver::new(labels::PROTOCOL);
    bind(&mut t, &x.values, &x.m);
    lookup::prove(&x.stmt, &x.values, &x.m, &mut t).expect("honest lookup");
    t.into_proof().encode()
}

/// The verifier as a caller runs it: bind, verify, check the claims against the data it holds.
fn verify(x: &Case, proof: &[u8]) -> Result<(), VerifyError> {
    let mut t = FiatShamirVerifier::new(labels::PROTOCOL, proof)?;
    bind(&mut t, &x.values, &x.m);
    let claims = lookup::verify(&x.stmt, &mut t)?;
    let m: Vec<Fp> = x.m.iter().map(|v| Fp::from(*v)).collect();
    gkrnet::sumcheck::EvalClaim { point: claims.point.clone(), value: claims.values_eval }
        .check(evaluate_padded(&x.values, &claims.point), "looked-up values")?;
    gkrnet::sumcheck::EvalClaim {
        point: claims.multiplicities_point.clone(),
        value: claims.multiplicities_eval,
    }
    .check(evaluate_padded(&m, &claims.multiplicities_point), "multiplicities")?;
    t.finish()
}

#[test]
fn honest_lookups_verify_for_many_sizes_and_seeds() {
    for seed in 0..120u64 {
        let mut rng = rng(seed);
        let (table_len, num_values) = match seed % 4 {
            0 => (1, 1),
            1 => (rng.gen_range(1..20), rng.gen_range(1..200)),
            2 => (rng.gen_range(100..300), rng.gen_range(1..20)),
            _ => (256, 256),
        };
        let x = case(seed, table_len, num_values);
        verify(&x, &prove(&x))
            .unwrap_or_else(|e| panic!("seed {seed} table {table_len} values {num_values}: {e}"));
    }
}

#[test]
fn a_value_outside_the_table_cannot_be_proven() {
    let mut x = case(1, 16, 40);
    x.values[5] = Fp::from(1_000_000u64);
    assert_eq!(
        multiplicities(&x.values, &x.stmt.table.entries()),
        Err(ProveError::NotInTable { index: 5 })
    );
    let mut t = FiatShamirProver::new(labels::PROTOCOL);
    assert_eq!(lookup::prove(&x.stmt, &x.values, &x.m, &mut t), Err(ProveError::LookupImbalance));
}

#[test]
fn bad_multiplicities_cannot_be_proven_and_tampered_ones_are_rejected() {
    let x = case(2, 16, 40);
    let mut bad = Case { stmt: x.stmt.clone(), values: x.values.clone(), m: x.m.clone() };
    let j = bad.m.iter().position(|&c| c > 0).unwrap();
    bad.m[j] -= 1;
    bad.m[(j + 1) % 16] += 1;
    let mut t = FiatShamirProver::new(labels::PROTOCOL);
    assert_eq!(
        lookup::prove(&bad.stmt, &bad.values, &bad.m, &mut t),
        Err(ProveError::LookupImbalance)
    );
    // the honest proof checked against other multiplicities: the caller's claim check fails
    // (the verifier binds the multiplicities it is given, so every challenge changes first)
    assert!(verify(&bad, &prove(&x)).is_err());
    // the multiplicities' evaluation in the proof changed: rejected at the leaves
    let proof = prove(&x);
    let tampered = edit(&proof, |p| {
        let last = p.messages.last_mut().unwrap();
        last.values[1] += Fp::one();
    });
    assert!(matches!(
        verify(&x, &tampered),
        Err(VerifyError::EvalMismatch { what: "logup leaf numerator", .. })
    ));
    let tampered = edit(&proof, |p| {
        let last = p.messages.last_mut().unwrap();
        last.values[0] += Fp::one();
    });
    assert!(matches!(
        verify(&x, &tampered),
        Err(VerifyError::EvalMismatch { what: "logup leaf denominator", .. })
    ));
}

#[test]
fn a_tampered_root_is_rejected() {
    let x = case(3, 8, 30);
    let proof = prove(&x);
    let nonzero = edit(&proof, |p| p.messages[0].values[0] = Fp::one());
    assert_eq!(verify(&x, &nonzero), Err(VerifyError::LookupImbalance));
    let degenerate = edit(&proof, |p| p.messages[0].values[1] = Fp::zero());
    assert_eq!(verify(&x, &degenerate), Err(VerifyError::LookupDegenerate));
    let scaled = edit(&proof, |p| p.messages[0].values[1] += Fp::one());
    assert!(verify(&x, &scaled).is_err());
}

#[test]
fn a_different_table_is_rejected() {
    let x = case(4, 32, 64);
    let proof = prove(&x);
    let mut other = Case { stmt: x.stmt.clone(), values: x.values.clone(), m: x.m.clone() };
    let Table::Explicit(t) = &mut other.stmt.table else { unreachable!() };
    t[31] += Fp::one();
    assert!(matches!(
        verify(&other, &proof),
        Err(VerifyError::EvalMismatch { what: "logup leaf denominator", .. })
    ));
}

/// A cheater that learns α for the honest values and only then swaps one value for another
/// outside the table: the verifier binds the values it is given, so α and every later challenge
/// change and the proof no longer fits.
#[test]
fn values_chosen_after_alpha_are_rejected() {
    for seed in 0..20u64 {
        let x = case(100 + seed, 16, 50);
        let proof = prove(&x);
        let mut swapped = Case { stmt: x.stmt.clone(), values: x.values.clone(), m: x.m.clone() };
        swapped.values[seed as usize] = Fp::from(999u64 + seed);
        assert!(verify(&swapped, &proof).is_err(), "seed {seed}");
    }
}

#[test]
fn every_byte_flip_and_truncation_is_rejected() {
    let x = case(5, 8, 12);
    let proof = prove(&x);
    verify(&x, &proof).unwrap();
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i] ^= 0x01;
        assert!(verify(&x, &bad).is_err(), "byte {i}");
    }
    for len in 0..proof.len() {
        assert!(verify(&x, &proof[..len]).is_err(), "truncated to {len}");
    }
}

#[test]
fn range_checks_with_the_closed_form_table() {
    for (bits, n) in [(4u32, 3usize), (8, 1000), (16, 300)] {
        let mut rng = rng(bits as u64);
        let values: Vec<Fp> = (0..n).map(|_| Fp::from(rng.gen_range(0..1u64 << bits))).collect();
        let table = Table::Range { bits };
        let m = multiplicities(&values, &table.entries()).unwrap();
        let x = Case { stmt: LookupStatement { num_values: n, table }, values, m };
        verify(&x, &prove(&x)).unwrap();
        // one value just outside the range cannot be proven
        let mut outside = x.values.clone();
        outside[0] = Fp::from(1u64 << bits);
        assert!(multiplicities(&outside, &x.stmt.table.entries()).is_err());
    }
}
