//! The sumcheck verifier. It reads every prover message through the transcript, with lengths fixed
//! by the claim, and returns an [`EvalClaim`] for the caller to check; it never returns a bool and
//! never panics.

use super::{
    absorb_claim, check_claim_shape, combine, decompress_round, degree, point_from_challenges,
    EvalClaim, SumcheckClaim, Term,
};
use crate::error::VerifyError;
use crate::proof::FRAME_BYTES;
use crate::transcript::{labels, VerifierTranscript};

/// Runs the sumcheck verifier on `claim`.
///
/// # Errors
/// * [`VerifyError::InvalidClaim`] if the claim is outside the supported limits;
/// * [`VerifyError::WrongRoundCount`] if the proof holds fewer round messages than `num_vars`;
/// * [`VerifyError::DegreeTooHigh`] if a round message is longer than the degree bound allows;
/// * the transcript's errors for malformed messages.
///
/// # Soundness
/// The returned claim is only as good as the caller's check of it: if g(point) ≠ value for the
/// true g, the proof is false. A false `claimed_sum` passes this function with probability 1 and
/// the caller's check with probability at most num_vars·degree/p.
pub fn verify(
    claim: &SumcheckClaim,
    t: &mut impl VerifierTranscript,
) -> Result<EvalClaim, VerifyError> {
    check_claim_shape(claim)?;
    absorb_claim(t, claim);
    let mut running_sum = claim.claimed_sum;
    let mut challenges = Vec::with_capacity(claim.num_vars);
    for round in 0..claim.num_vars {
        let msg = t
            .receive(labels::SUMCHECK_ROUND, claim.degree)
            .map_err(|e| round_error(e, claim, round))?;
        let poly = decompress_round(&msg, running_sum);
        let r = t.challenge(labels::SUMCHECK_CHALLENGE);
        running_sum = poly.evaluate(&r);
        challenges.push(r);
    }
    Ok(EvalClaim { point: point_from_challenges(challenges), value: running_sum })
}

/// Receives the prover's evaluations f_j(point) of the `num_factors` factors and checks that
/// Σ_t c_t Π_{j ∈ S_t} f_j(point) equals `claim.value`. Returns one claim per factor, which the
/// caller must check (or pass on as claims on the factors).
///
/// # Errors
/// [`VerifyError::FinalEvalMismatch`] if the combination differs;
/// [`VerifyError::TooManyRounds`] if another round message stands where the evaluations belong;
/// [`VerifyError::InvalidClaim`] if a term names a factor ≥ `num_factors`.
pub fn verify_final_evals(
    terms: &[Term],
    num_factors: usize,
    claim: &EvalClaim,
    t: &mut impl VerifierTranscript,
) -> Result<Vec<EvalClaim>, VerifyError> {
    if terms.iter().flat_map(|term| &term.factors).any(|&j| j >= num_factors) || degree(terms) == 0
    {
        return Err(VerifyError::InvalidClaim {
            reason: "a term names a missing factor, or no term has a factor",
        });
    }
    let evals = t.receive(labels::SUMCHECK_FINAL_EVALS, num_factors).map_err(|e| match e {
        VerifyError::UnexpectedMessage { found, .. } if found == labels::SUMCHECK_ROUND => {
            VerifyError::TooManyRounds { expected: claim.point.len() }
        }
        e => e,
    })?;
    let got = combine(terms, &evals)
        .ok_or(VerifyError::InvalidClaim { reason: "a term names a missing factor" })?;
    if got != claim.value {
        return Err(VerifyError::FinalEvalMismatch { expected: claim.value, got });
    }
    Ok(evals.into_iter().map(|value| EvalClaim { point: claim.point.clone(), value }).collect())
}

/// Names a failure to read round `round` in terms of the sumcheck.
fn round_error(e: VerifyError, claim: &SumcheckClaim, round: usize) -> VerifyError {
    match e {
        VerifyError::MessageLength { got, .. } if got > claim.degree as u64 => {
            VerifyError::DegreeTooHigh { round, got, max: claim.degree }
        }
        // the proof goes on with the next message, or ends, where this round belongs
        VerifyError::UnexpectedMessage { found, .. } if found == labels::SUMCHECK_FINAL_EVALS => {
            VerifyError::WrongRoundCount { expected: claim.num_vars, got: round }
        }
        VerifyError::Truncated { needed: FRAME_BYTES, .. } => {
            VerifyError::WrongRoundCount { expected: claim.num_vars, got: round }
        }
        e => e,
    }
}
