//! The claim-merging prover.

use super::{absorb_claims, powers};
use crate::error::ProveError;
use crate::field::Fp;
use crate::poly::eq_evals_scaled;
use crate::sumcheck::{self, prover::ProductSum, EvalClaim};
use crate::transcript::{labels, ProverTranscript};

/// Merges `claims` on the table `f` (2^n entries, every point of n coordinates) into one claim
/// f̃(ρ) = value, which the caller passes on.
///
/// # Errors
/// [`ProveError::ShapeMismatch`] if there are no claims or a point has the wrong length;
/// [`ProveError::ClaimedSumMismatch`] if a claimed value is false.
pub fn prove(
    claims: &[EvalClaim],
    f: &[Fp],
    t: &mut impl ProverTranscript,
) -> Result<EvalClaim, ProveError> {
    let num_vars = crate::poly::num_vars_for(f.len());
    if claims.is_empty() {
        return Err(ProveError::InvalidShape { reason: "no claims to merge".into() });
    }
    if !f.len().is_power_of_two() {
        return Err(ProveError::InvalidShape {
            reason: format!("a table of {} entries is not a hypercube", f.len()),
        });
    }
    if let Some(bad) = claims.iter().find(|c| c.point.len() != num_vars) {
        return Err(ProveError::ShapeMismatch {
            what: "variables of a merged claim",
            expected: num_vars,
            got: bad.point.len(),
        });
    }
    absorb_claims(t, claims);
    let gamma = t.challenge(labels::MERGE_GAMMA);
    let coeffs = powers(gamma, claims.len());
    let mut w = vec![Fp::default(); f.len()];
    for (c, coeff) in claims.iter().zip(&coeffs) {
        for (wi, e) in w.iter_mut().zip(eq_evals_scaled(&c.point, *coeff)) {
            *wi += e;
        }
    }
    let claimed_sum: Fp = claims.iter().zip(&coeffs).map(|(c, g)| c.value * g).sum();
    let out = sumcheck::prove(ProductSum::product(vec![w, f.to_vec()])?, claimed_sum, t)?;
    sumcheck::send_final_evals(t, &out.final_evals);
    Ok(out.claim_on(1))
}
