//! The matrix-product prover: folds A and B from int8 into the two sumcheck tables, then one
//! degree-2 sumcheck over the inner variables.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use super::{
    absorb_statement, draw_point, factor_claims, FactorClaims, ProductClaim, Shape, MAX_INNER,
};
use crate::error::ProveError;
use crate::field::{column_combination_i8, row_combination_i8, Fp};
use crate::poly::{eq_evals, evaluate_matrix_i32};
use crate::sumcheck::{self, prover::ProductSum};
use crate::transcript::ProverTranscript;

/// Checks that the data matches the shape and that the i32 accumulator cannot overflow.
pub(crate) fn check_shape(
    shape: &Shape,
    a: &[i8],
    b: &[i8],
    c: Option<&[i32]>,
) -> Result<(), ProveError> {
    let Shape { m, n, k } = *shape;
    if m == 0 || n == 0 || k == 0 {
        return Err(ProveError::InvalidShape {
            reason: format!("empty matrix product {m}×{n}·{n}×{k}"),
        });
    }
    if n > MAX_INNER {
        return Err(ProveError::InvalidShape {
            reason: format!(
                "inner dimension {n} > 2^17 − 1: the i32 accumulator of C could overflow"
            ),
        });
    }
    let expect = |what: &'static str, len: usize, rows: usize, cols: usize| match rows
        .checked_mul(cols)
    {
        Some(e) if e == len => Ok(()),
        _ => Err(ProveError::ShapeMismatch { what, expected: rows.saturating_mul(cols), got: len }),
    };
    expect("entries of A (m×n)", a.len(), m, n)?;
    expect("entries of B (n×k)", b.len(), n, k)?;
    if let Some(c) = c {
        expect("entries of C (m×k)", c.len(), m, k)?;
    }
    Ok(())
}

/// Proves `claim` on C̃ for C = A·B and returns the claims on Ã and B̃ the verifier is left with.
/// Sends the sumcheck rounds and the two evaluations.
///
/// Cost: one pass over A (two u64 multiplies per entry, [`row_combination_i8`]), one over B
/// ([`column_combination_i8`]), and a sumcheck over 2^⌈log₂ n⌉ entries.
///
/// # Errors
/// [`ProveError::InvalidShape`] / [`ProveError::ShapeMismatch`] for bad shapes,
/// [`ProveError::ClaimedSumMismatch`] if the claim is false.
pub fn prove(
    shape: &Shape,
    a: &[i8],
    b: &[i8],
    claim: &ProductClaim,
    t: &mut impl ProverTranscript,
) -> Result<FactorClaims, ProveError> {
    prove_centered(shape, a, 0, b, claim, t)
}

/// [`prove`] for C = (A − z_a)·B, where A − z_a is taken on A's m×n entries only (its padding
/// stays 0): the claim on Ã it returns is on that centered matrix, whose MLE is
/// Ã(p) − z_a·[row < m]·[col < n] at p (a dense layer folds its input's zero point this way, so a
/// verifier needs nothing derived from the weights). The values of A − z_a may leave the int8
/// range (down to −255); the fold still reads A as int8.
///
/// # Errors
/// As [`prove`].
pub fn prove_centered(
    shape: &Shape,
    a: &[i8],
    a_zero: i32,
    b: &[i8],
    claim: &ProductClaim,
    t: &mut impl ProverTranscript,
) -> Result<FactorClaims, ProveError> {
    check_shape(shape, a, b, None)?;
    if claim.r_row.len() != shape.row_vars() || claim.r_col.len() != shape.col_vars() {
        return Err(ProveError::ShapeMismatch {
            what: "variables of the claim's point",
            expected: shape.row_vars() + shape.col_vars(),
            got: claim.r_row.len() + claim.r_col.len(),
        });
    }
    let Shape { m, n, k } = *shape;
    let padded = 1 << shape.inner_vars();
    // Ã(r_row, j) for every j, and B̃(j, r_col) for every j, zero-padded to 2^⌈log₂ n⌉
    let (mut a_table, mut b_table) = rayon::join(
        || row_combination_i8(a, m, n, &eq_evals(&claim.r_row)),
        || column_combination_i8(b, n, k, &eq_evals(&claim.r_col)),
    );
    if a_zero != 0 {
        // Σ_{i<m} eq(r_row, i)·z_a leaves every column j < n of the fold
        let shift = crate::field::from_i64(a_zero as i64)
            * crate::lookup::prefix_indicator(m, &claim.r_row);
        a_table.iter_mut().take(n).for_each(|v| *v -= shift);
    }
    a_table.resize(padded, Fp::default());
    b_table.resize(padded, Fp::default());
    let poly = ProductSum::product(vec![a_table, b_table])?;
    let out = sumcheck::prove(poly, claim.value, t)?;
    sumcheck::send_final_evals(t, &out.final_evals);
    Ok(factor_claims(claim, &out.point, out.final_evals[0], out.final_evals[1]))
}

/// The outsourced product: absorbs the statement (shapes, digests of A, B, C), draws the point on
/// C, evaluates C̃ there and proves it.
///
/// # Errors
/// As [`prove`]; [`ProveError::ClaimedSumMismatch`] if C ≠ A·B.
pub fn prove_product(
    shape: &Shape,
    a: &[i8],
    b: &[i8],
    c: &[i32],
    t: &mut impl ProverTranscript,
) -> Result<FactorClaims, ProveError> {
    check_shape(shape, a, b, Some(c))?;
    absorb_statement(t, shape, a, b, c);
    let (r_row, r_col) = draw_point(t, shape);
    let value = evaluate_matrix_i32(c, shape.m, shape.k, &r_col, &r_row);
    prove(shape, a, b, &ProductClaim { r_row, r_col, value }, t)
}
