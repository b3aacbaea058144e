//! Honest proofs verify, for many seeds, sizes and shapes, and the prover's final evaluations are
//! the tables' MLEs at the challenge point.
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
use gkrnet::error::ProveError;
use gkrnet::poly::evaluate_padded;
use gkrnet::sumcheck::{self, prover::ProductSum, Term};
use gkrnet::transcript::FiatShamirProver;

#[test]
fn honest_proofs_verify_for_many_seeds_sizes_and_shapes() {
    let mut count = 0;
    for seed in 0..50u64 {
        let mut rng = rng(seed);
        let num_vars = (seed as usize) % 11;
        for (num_tables, terms) in shapes(&mut rng) {
            let poly = random_instance(&mut rng, num_vars, num_tables, terms.clone());
            let (claim, proof) = honest_proof(&poly, PROTOCOL);
            let claims = verify_all(&claim, &terms, poly.tables(), &proof, PROTOCOL)
                .unwrap_or_else(|e| panic!("seed {seed}, {num_vars} vars, terms {terms:?}: {e}"));
            assert_eq!(claims.len(), num_tables);
            count += 1;
        }
    }
    assert!(count >= 200, "only {count} honest runs");
}

#[test]
fn large_instances_use_the_parallel_path_and_verify() {
    let mut rng = rng(77);
    for num_vars in [13, 16] {
        for (num_tables, terms) in shapes(&mut rng).into_iter().skip(1) {
            let poly = random_instance(&mut rng, num_vars, num_tables, terms.clone());
            let (claim, proof) = honest_proof(&poly, PROTOCOL);
            verify_all(&claim, &terms, poly.tables(), &proof, PROTOCOL).unwrap();
        }
    }
}

#[test]
fn final_evaluations_are_the_mles_at_the_point() {
    let mut rng = rng(5);
    let poly = random_instance(&mut rng, 9, 3, vec![Term::product(vec![0, 1, 2])]);
    let mut t = FiatShamirProver::new(PROTOCOL);
    let out = sumcheck::prove(poly.clone(), poly.sum(), &mut t).unwrap();
    assert_eq!(out.point.len(), 9);
    for (j, table) in poly.tables().iter().enumerate() {
        assert_eq!(out.final_evals[j], evaluate_padded(table, &out.point));
    }
    assert_eq!(t.into_proof().messages.len(), 9);
}

#[test]
fn prover_refuses_a_false_sum_and_bad_polynomials() {
    let mut rng = rng(6);
    let poly = random_instance(&mut rng, 5, 2, vec![Term::product(vec![0, 1])]);
    let mut t = FiatShamirProver::new(PROTOCOL);
    assert_eq!(
        sumcheck::prove(poly.clone(), poly.sum() + gkrnet::field::Fp::one(), &mut t),
        Err(ProveError::ClaimedSumMismatch)
    );
    let tables = poly.tables().to_vec();
    assert!(matches!(
        ProductSum::new(vec![], vec![Term::product(vec![0])]),
        Err(ProveError::InvalidPolynomial { .. })
    ));
    assert!(matches!(
        ProductSum::new(tables.clone(), vec![Term::product(vec![2])]),
        Err(ProveError::InvalidPolynomial { .. })
    ));
    assert!(matches!(
        ProductSum::new(tables.clone(), vec![Term::product(vec![])]),
        Err(ProveError::InvalidPolynomial { .. })
    ));
    assert!(matches!(
        ProductSum::new(vec![tables[0][..3].to_vec()], vec![Term::product(vec![0])]),
        Err(ProveError::InvalidPolynomial { .. })
    ));
}

#[test]
fn zero_variables_is_a_single_evaluation() {
    let mut rng = rng(8);
    let poly = random_instance(&mut rng, 0, 2, vec![Term::product(vec![0, 1])]);
    let (claim, proof) = honest_proof(&poly, PROTOCOL);
    assert_eq!(claim.claimed_sum, poly.tables()[0][0] * poly.tables()[1][0]);
    verify_all(&claim, poly.terms(), poly.tables(), &proof, PROTOCOL).unwrap();
}
