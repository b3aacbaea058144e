//! The claim-merging verifier.

use super::{absorb_claims, powers, terms};
use crate::error::VerifyError;
use crate::field::Fp;
use crate::poly::eq_eval;
use crate::sumcheck::{self, EvalClaim, SumcheckClaim};
use crate::transcript::{labels, VerifierTranscript};

/// Verifies the merge of `claims` (all on one polynomial of `num_vars` variables) and returns the
/// single claim the caller must check or pass on.
///
/// # Errors
/// [`VerifyError::InvalidStatement`] for no claims or points of the wrong length; the sumcheck's
/// errors; [`VerifyError::EvalMismatch`] if the prover's w(ρ) is not the verifier's.
pub fn verify(
    claims: &[EvalClaim],
    num_vars: usize,
    t: &mut impl VerifierTranscript,
) -> Result<EvalClaim, VerifyError> {
    if claims.is_empty() || claims.iter().any(|c| c.point.len() != num_vars) {
        return Err(VerifyError::InvalidStatement {
            reason: "claims to merge must be non-empty and share the number of variables",
        });
    }
    absorb_claims(t, claims);
    let gamma = t.challenge(labels::MERGE_GAMMA);
    let coeffs = powers(gamma, claims.len());
    let claimed_sum: Fp = claims.iter().zip(&coeffs).map(|(c, g)| c.value * g).sum();
    let eval = sumcheck::verify(&SumcheckClaim { num_vars, degree: 2, claimed_sum }, t)?;
    let evals = sumcheck::verify_final_evals(&terms(), 2, &eval, t)?;
    let [w, f] = evals.as_slice() else {
        return Err(VerifyError::InvalidStatement { reason: "two factor evaluations expected" });
    };
    let w_rho: Fp =
        claims.iter().zip(&coeffs).map(|(c, g)| *g * eq_eval(&c.point, &eval.point)).sum();
    w.check(w_rho, "Σ γⁱ·eq(rᵢ, ρ) in a claim merge")?;
    Ok(f.clone())
}
