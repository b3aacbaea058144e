//! Merging several claims on one multilinear polynomial into one.
//!
//! Claims f̃(rᵢ) = vᵢ (i < c) at different points cannot be added: they are merged with a random
//! γ into Σ_x w(x)·f(x) = Σᵢ γⁱ·vᵢ, w(x) = Σᵢ γⁱ·eq(rᵢ, x), one degree-2 sumcheck over f's n
//! variables (Thaler, *Proofs, Arguments, and Zero-Knowledge*, §4.5.2 "reducing to one point",
//! in its random-linear-combination form; Chiesa et al. use the same reduction). The verifier
//! computes w(ρ) itself in O(c·n) and is left with the single claim f̃(ρ) = the prover's value.
//!
//! Soundness: if some vᵢ ≠ f̃(rᵢ), the combined sum is wrong except with probability (c − 1)/p over
//! γ, and the sumcheck then fails except with probability 2n/p.
//!
//! Transcript: both sides absorb every point and value before γ is drawn ([`absorb_claims`]).

pub mod prover;
pub mod verifier;

pub use prover::prove;
pub use verifier::verify;

use crate::field::Fp;
use crate::sumcheck::{EvalClaim, Term};
use crate::transcript::{labels, Transcript};
use ark_ff::One;

/// The sumcheck's one term w·f over the tables [w, f].
pub(crate) fn terms() -> Vec<Term> {
    vec![Term::product(vec![0, 1])]
}

/// Absorbs the number of claims, then each point and value. Shared by both sides.
pub fn absorb_claims(t: &mut impl Transcript, claims: &[EvalClaim]) {
    t.append_u64(labels::MERGE_CLAIMS, claims.len() as u64);
    for c in claims {
        t.append_fields(labels::MERGE_CLAIMS, &c.point);
        t.append_field(labels::MERGE_CLAIMS, &c.value);
    }
}

/// γ⁰, γ¹, …, γ^(c−1).
pub(crate) fn powers(gamma: Fp, c: usize) -> Vec<Fp> {
    std::iter::successors(Some(Fp::one()), |p| Some(*p * gamma)).take(c).collect()
}
