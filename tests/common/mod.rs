//! Honest fixtures, seeded randomness and tamper helpers shared by the integration tests.
#![allow(dead_code)]

pub mod channel;
pub mod cheating;
pub mod errors;
pub mod model;
pub mod oracles;
pub mod threshold;

use ark_ff::UniformRand;
use gkrnet::circuit::Tensor;
use gkrnet::error::VerifyError;
use gkrnet::field::Fp;
use gkrnet::poly::evaluate_padded;
use gkrnet::proof::Proof;
use gkrnet::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The shift `GKRNET_TEST_SEED` (an integer) adds to every seed (0 by default).
pub fn seed_shift() -> u64 {
    std::env::var("GKRNET_TEST_SEED").ok().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0)
}

/// A seeded rng; `GKRNET_TEST_SEED` shifts every seed to explore other cases.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed.wrapping_add(seed_shift()))
}

pub fn random_vec(rng: &mut ChaCha20Rng, len: usize) -> Vec<Fp> {
    (0..len).map(|_| Fp::rand(rng)).collect()
}

/// A random sumcheck instance: `num_tables` tables of 2^num_vars entries and the given terms.
pub fn random_instance(
    rng: &mut ChaCha20Rng,
    num_vars: usize,
    num_tables: usize,
    terms: Vec<Term>,
) -> ProductSum {
    let tables = (0..num_tables).map(|_| random_vec(rng, 1 << num_vars)).collect();
    ProductSum::new(tables, terms).expect("valid instance")
}

/// The shapes of polynomial the sumcheck must handle: products of 1, 2, 3 tables and sums of them.
pub fn shapes(rng: &mut ChaCha20Rng) -> Vec<(usize, Vec<Term>)> {
    vec![
        (1, vec![Term::product(vec![0])]),
        (2, vec![Term::product(vec![0, 1])]),
        (3, vec![Term::product(vec![0, 1, 2])]),
        // eq-weighted pair plus a scaled square: Σ c₀·f₀f₁f₂ + c₁·f₃²
        (4, vec![Term::new(Fp::rand(rng), vec![0, 1, 2]), Term::new(Fp::rand(rng), vec![3, 3])]),
        // logup-like: f₀·(f₁ − f₂·γ) written as two terms
        (3, vec![Term::product(vec![0, 1]), Term::new(-Fp::rand(rng), vec![0, 2])]),
    ]
}

/// An honest proof: sumcheck rounds followed by the factor evaluations. Returns the claim, the
/// encoded proof and the prover's point.
pub fn honest_proof(poly: &ProductSum, protocol: &'static str) -> (SumcheckClaim, Vec<u8>) {
    let claimed_sum = poly.sum();
    let claim = poly.claim(claimed_sum);
    let mut t = FiatShamirProver::new(protocol);
    let out = sumcheck::prove(poly.clone(), claimed_sum, &mut t).expect("honest prover");
    sumcheck::send_final_evals(&mut t, &out.final_evals);
    (claim, t.into_proof().encode())
}

/// The whole verifier as a caller runs it: sumcheck, the factor evaluations, then the caller's own
/// check of every factor claim against the tables it holds, then the end of the proof.
pub fn verify_all(
    claim: &SumcheckClaim,
    terms: &[Term],
    tables: &[Vec<Fp>],
    proof: &[u8],
    protocol: &'static str,
) -> Result<Vec<EvalClaim>, VerifyError> {
    let mut t = FiatShamirVerifier::new(protocol, proof)?;
    let eval = sumcheck::verify(claim, &mut t)?;
    let claims = sumcheck::verify_final_evals(terms, tables.len(), &eval, &mut t)?;
    for (c, table) in claims.iter().zip(tables) {
        c.check(evaluate_padded(table, &c.point), "factor evaluation")?;
    }
    t.finish()?;
    Ok(claims)
}

/// Decodes, edits the messages, re-encodes.
pub fn edit(proof: &[u8], f: impl FnOnce(&mut Proof)) -> Vec<u8> {
    let mut p = Proof::decode(proof).expect("honest proof decodes");
    f(&mut p);
    p.encode()
}

pub const PROTOCOL: &str = labels::PROTOCOL;

pub fn random_i8(rng: &mut ChaCha20Rng, len: usize) -> Vec<i8> {
    use rand::Rng;
    (0..len).map(|_| rng.gen()).collect()
}

/// A tensor of `dims` with uniform int8 entries.
pub fn random_int8_tensor(rng: &mut ChaCha20Rng, dims: &[usize]) -> Tensor {
    use rand::Rng;
    let len = dims.iter().product();
    Tensor::new(dims.to_vec(), (0..len).map(|_| rng.gen_range(-128..=127)).collect())
        .expect("the entries fill the dimensions")
}
