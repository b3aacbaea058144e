//! The LogUp verifier.

use super::{layer_terms, leaf_values, LookupClaims, LookupStatement, FACTORS};
use crate::error::VerifyError;
use crate::field::Fp;
use crate::poly::eq_eval;
use crate::sumcheck::{self, SumcheckClaim, MAX_NUM_VARS};
use crate::transcript::{labels, VerifierTranscript};
use ark_ff::Zero;

/// Verifies a lookup into the statement's table and returns the claims on the values' and the
/// multiplicities' MLEs, which the caller must check.
///
/// # Errors
/// [`VerifyError::LookupImbalance`] if the root numerator is not zero,
/// [`VerifyError::LookupDegenerate`] if the root denominator is zero, a layer's sumcheck errors,
/// [`VerifyError::EvalMismatch`] if the leaves or a layer's eq value disagree.
pub fn verify(
    stmt: &LookupStatement,
    t: &mut impl VerifierTranscript,
) -> Result<LookupClaims, VerifyError> {
    let n = stmt.num_vars();
    if n >= MAX_NUM_VARS {
        return Err(VerifyError::InvalidStatement { reason: "lookup too large" });
    }
    let alpha = t.challenge(labels::LOGUP_ALPHA);
    let root = t.receive(labels::LOGUP_ROOT, 2)?;
    let [p_root, q_root] = root[..] else {
        return Err(VerifyError::InvalidStatement { reason: "the root is two field elements" });
    };
    if !p_root.is_zero() {
        return Err(VerifyError::LookupImbalance);
    }
    if q_root.is_zero() {
        return Err(VerifyError::LookupDegenerate);
    }
    let (mut r, mut vp, mut vq): (Vec<Fp>, Fp, Fp) = (Vec::new(), p_root, q_root);
    for layer in 0..n {
        let lambda = t.challenge(labels::LOGUP_LAMBDA);
        let claim = SumcheckClaim { num_vars: layer, degree: 3, claimed_sum: vp + lambda * vq };
        let eval = sumcheck::verify(&claim, t)?;
        let evals = sumcheck::verify_final_evals(&layer_terms(lambda), FACTORS, &eval, t)?;
        let [eq, p0, p1, q0, q1] = evals.as_slice() else {
            return Err(VerifyError::InvalidStatement {
                reason: "five factor evaluations expected",
            });
        };
        eq.check(eq_eval(&r, &eval.point), "eq(r, ρ) in a logup layer")?;
        let tau = t.challenge(labels::LOGUP_TAU);
        vp = p0.value + tau * (p1.value - p0.value);
        vq = q0.value + tau * (q1.value - q0.value);
        r = eval.point;
        r.push(tau);
    }
    let leaf = t.receive(labels::LOGUP_LEAF_EVALS, 2)?;
    let [values_eval, multiplicities_eval] = leaf[..] else {
        return Err(VerifyError::InvalidStatement { reason: "two leaf evaluations expected" });
    };
    let Some(low) = r.get(..stmt.table_vars()) else {
        return Err(VerifyError::InvalidStatement { reason: "leaf point of the wrong length" });
    };
    let table_eval = stmt.table.evaluate(low);
    let (p, q) = leaf_values(stmt, alpha, &r, values_eval, multiplicities_eval, table_eval);
    if p != vp {
        return Err(VerifyError::EvalMismatch {
            what: "logup leaf numerator",
            claimed: vp,
            computed: p,
        });
    }
    if q != vq {
        return Err(VerifyError::EvalMismatch {
            what: "logup leaf denominator",
            claimed: vq,
            computed: q,
        });
    }
    Ok(LookupClaims {
        multiplicities_point: low.to_vec(),
        point: r,
        values_eval,
        multiplicities_eval,
    })
}
