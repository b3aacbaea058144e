//! The sumcheck protocol (Lund–Fortnow–Karloff–Nisan; Thaler, *Proofs, Arguments, and
//! Zero-Knowledge*, §4.1) for sums of products of multilinear polynomials:
//!
//! ```text
//!   claimed_sum = Σ_{x ∈ {0,1}^n} g(x),    g(x) = Σ_t c_t · Π_{j ∈ S_t} f_j(x)
//! ```
//! with each f_j multilinear (a table of 2^n values, index bit i = xᵢ, see [`crate::poly`]) and
//! degree d = max |S_t| (2 for a matrix product, 3 for eq-weighted products and logup).
//!
//! **Binding order**: round j binds the top remaining variable, x_(n−1−j) (so the prover folds its
//! tables in place, see [`prover`]). Round j sends
//! g_j(X) = Σ_{x_0..x_(n−2−j)} g(x_0, …, x_(n−2−j), X, r_(j−1), …, r_0) as its values at
//! X = 0, 2, 3, …, d; the verifier derives g_j(1) = running_sum − g_j(0) (one field element per round
//! saved), draws r_j, and sets running_sum = g_j(r_j). The challenges, reversed, are the point in
//! the crate's variable order (`point[i]` = xᵢ, [`point_from_challenges`]). After n rounds the
//! verifier holds an
//! [`EvalClaim`]: g(r) = value, which **the caller must check** (against evaluations it computes,
//! or against claimed factor evaluations with [`verify_final_evals`], which become new claims).
//!
//! Transcript: before the first challenge both sides absorb the claim ([`absorb_claim`]: n, d and
//! the claimed sum); every round message is absorbed (by `send`/`receive`) before its challenge.
//!
//! Soundness: a false claim survives with probability at most n·d/p per sumcheck (Schwartz–Zippel
//! in each round; `paper-notes/soundness.md`).
//!
//! Prover cost: round i touches 2^(n−i) entries per table: the fold by r_(i−1) and the evaluations
//! of round i happen in one pass (see [`prover`]); tables halve every round, total O(2^n · |tables|).

pub mod prover;
pub mod verifier;

pub use prover::prove;
pub use verifier::{verify, verify_final_evals};

use crate::error::VerifyError;
use crate::field::Fp;
use crate::poly::UniPoly;
use crate::transcript::{labels, ProverTranscript, Transcript};
use ark_ff::{One, Zero};

/// The largest number of variables a claim may have (2^40 entries per table is far beyond memory;
/// a verifier refuses larger claims instead of looping).
pub const MAX_NUM_VARS: usize = 40;

/// The largest round-polynomial degree a claim may have.
pub const MAX_DEGREE: usize = 16;

/// What the verifier knows before the proof: n, the degree bound and the claimed sum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SumcheckClaim {
    pub num_vars: usize,
    pub degree: usize,
    pub claimed_sum: Fp,
}

/// A claim that a polynomial evaluates to `value` at `point` (point[i] = xᵢ).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalClaim {
    pub point: Vec<Fp>,
    pub value: Fp,
}

impl EvalClaim {
    /// The caller's final check: the claimed value must equal the value the caller computes
    /// itself (from data it holds, or from a later sub-protocol).
    ///
    /// # Errors
    /// [`VerifyError::EvalMismatch`] naming `what` if they differ.
    pub fn check(&self, computed: Fp, what: &'static str) -> Result<(), VerifyError> {
        if self.value == computed {
            Ok(())
        } else {
            Err(VerifyError::EvalMismatch { what, claimed: self.value, computed })
        }
    }
}

/// One product term c · Π_{j ∈ factors} f_j of the summed polynomial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub coeff: Fp,
    pub factors: Vec<usize>,
}

impl Term {
    pub fn new(coeff: Fp, factors: Vec<usize>) -> Self {
        Self { coeff, factors }
    }

    /// The plain product of the given tables.
    pub fn product(factors: Vec<usize>) -> Self {
        Self { coeff: Fp::one(), factors }
    }
}

/// The degree of Σ terms: the largest number of factors in a term.
pub fn degree(terms: &[Term]) -> usize {
    terms.iter().map(|t| t.factors.len()).max().unwrap_or(0)
}

/// g evaluated from the values of its factors: Σ_t c_t · Π_{j ∈ S_t} evals[j].
/// `None` if a term names a factor that `evals` does not have.
pub fn combine(terms: &[Term], evals: &[Fp]) -> Option<Fp> {
    terms.iter().try_fold(Fp::zero(), |acc, term| {
        let product =
            term.factors.iter().try_fold(term.coeff, |p, &j| evals.get(j).map(|e| p * e))?;
        Some(acc + product)
    })
}

/// Absorbs the claim. Both sides call this first, so a claimed sum cannot be chosen after any
/// challenge of this sumcheck.
pub fn absorb_claim(t: &mut impl Transcript, claim: &SumcheckClaim) {
    t.append_u64(labels::SUMCHECK_CLAIM, claim.num_vars as u64);
    t.append_u64(labels::SUMCHECK_CLAIM, claim.degree as u64);
    t.append_field(labels::SUMCHECK_CLAIM, &claim.claimed_sum);
}

/// The round polynomial from its compressed message [g(0), g(2), …, g(d)] and the running sum
/// g(0) + g(1). Shared by prover and verifier so both interpolate the same polynomial.
pub fn decompress_round(msg: &[Fp], running_sum: Fp) -> UniPoly {
    let mut evals = Vec::with_capacity(msg.len() + 1);
    if let Some(g0) = msg.first() {
        evals.push(*g0);
        evals.push(running_sum - g0);
        evals.extend_from_slice(msg.get(1..).unwrap_or_default());
    }
    UniPoly::from_evals(evals)
}

/// The evaluation point from the challenges in round order: round j bound x_(n−1−j), so
/// `point[i]` = r_(n−1−i).
pub fn point_from_challenges(mut challenges: Vec<Fp>) -> Vec<Fp> {
    challenges.reverse();
    challenges
}

/// Sends the factor evaluations f_j(point) after a sumcheck; the verifier's counterpart is
/// [`verify_final_evals`].
pub fn send_final_evals(t: &mut impl ProverTranscript, evals: &[Fp]) {
    t.send(labels::SUMCHECK_FINAL_EVALS, evals);
}

/// Checks that a claim is within the limits every verifier enforces.
pub(crate) fn check_claim_shape(claim: &SumcheckClaim) -> Result<(), VerifyError> {
    if claim.num_vars > MAX_NUM_VARS {
        return Err(VerifyError::InvalidClaim { reason: "more variables than MAX_NUM_VARS" });
    }
    if claim.degree == 0 || claim.degree > MAX_DEGREE {
        return Err(VerifyError::InvalidClaim { reason: "degree outside 1..=MAX_DEGREE" });
    }
    Ok(())
}
