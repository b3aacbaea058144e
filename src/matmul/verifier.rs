//! The matrix-product verifier.

use super::{
    absorb_statement, draw_point, factor_claims, terms, FactorClaims, ProductClaim, Shape,
    MAX_INNER,
};
use crate::error::VerifyError;
use crate::poly::{evaluate_matrix_i32, evaluate_matrix_i8};
use crate::sumcheck::{self, SumcheckClaim};
use crate::transcript::VerifierTranscript;

/// Checks a statement's shapes before anything is read (and before any evaluation allocates).
fn check_shape(
    shape: &Shape,
    a: Option<&[i8]>,
    b: Option<&[i8]>,
    c: Option<&[i32]>,
) -> Result<(), VerifyError> {
    let Shape { m, n, k } = *shape;
    if m == 0 || n == 0 || k == 0 {
        return Err(VerifyError::InvalidStatement { reason: "empty matrix product" });
    }
    if n > MAX_INNER {
        return Err(VerifyError::InvalidStatement { reason: "inner dimension above 2^17 − 1" });
    }
    let fits = |len: Option<usize>, rows: usize, cols: usize| {
        len.is_none_or(|l| Some(l) == rows.checked_mul(cols))
    };
    if !fits(a.map(<[i8]>::len), m, n)
        || !fits(b.map(<[i8]>::len), n, k)
        || !fits(c.map(<[i32]>::len), m, k)
    {
        return Err(VerifyError::InvalidStatement {
            reason: "matrix data does not match the shapes",
        });
    }
    Ok(())
}

/// Verifies the reduction of `claim` on C̃ to claims on Ã and B̃, which the caller must check.
///
/// # Errors
/// [`VerifyError::InvalidStatement`] for impossible shapes or points; the sumcheck's errors.
pub fn verify(
    shape: &Shape,
    claim: &ProductClaim,
    t: &mut impl VerifierTranscript,
) -> Result<FactorClaims, VerifyError> {
    check_shape(shape, None, None, None)?;
    if claim.r_row.len() != shape.row_vars() || claim.r_col.len() != shape.col_vars() {
        return Err(VerifyError::InvalidStatement {
            reason: "the claim's point does not match the shapes",
        });
    }
    let sumcheck_claim =
        SumcheckClaim { num_vars: shape.inner_vars(), degree: 2, claimed_sum: claim.value };
    let eval = sumcheck::verify(&sumcheck_claim, t)?;
    let evals = sumcheck::verify_final_evals(&terms(), 2, &eval, t)?;
    let [a_eval, b_eval] = evals.as_slice() else {
        return Err(VerifyError::InvalidStatement { reason: "two factor evaluations expected" });
    };
    Ok(factor_claims(claim, &eval.point, a_eval.value, b_eval.value))
}

/// Verifies an outsourced product C = A·B: absorbs the statement (recomputing the digests), draws
/// the point, evaluates C̃, Ã and B̃ itself in O(mn + nk + mk) and checks the proof.
///
/// # Errors
/// [`VerifyError::EvalMismatch`] naming the matrix whose evaluation disagrees, the sumcheck's and
/// the transcript's errors, [`VerifyError::InvalidStatement`] for data that does not fit the shapes.
pub fn verify_product(
    shape: &Shape,
    a: &[i8],
    b: &[i8],
    c: &[i32],
    t: &mut impl VerifierTranscript,
) -> Result<(), VerifyError> {
    check_shape(shape, Some(a), Some(b), Some(c))?;
    absorb_statement(t, shape, a, b, c);
    let (r_row, r_col) = draw_point(t, shape);
    let value = evaluate_matrix_i32(c, shape.m, shape.k, &r_col, &r_row);
    let claim = ProductClaim { r_row, r_col, value };
    let claims = verify(shape, &claim, t)?;
    let rho = claims.b.point.get(shape.col_vars()..).unwrap_or_default();
    claims
        .a
        .check(evaluate_matrix_i8(a, shape.m, shape.n, rho, &claim.r_row), "Ã(r_row, ρ) from A")?;
    claims
        .b
        .check(evaluate_matrix_i8(b, shape.n, shape.k, &claim.r_col, rho), "B̃(ρ, r_col) from B")?;
    Ok(())
}
