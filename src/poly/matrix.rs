//! MLEs of row-major matrices whose two axes are each zero-padded to a power of two on its own.
//!
//! A `rows × cols` matrix M is the table of a multilinear polynomial M̃ in c + r variables
//! (c = ⌈log₂ cols⌉, r = ⌈log₂ rows⌉): the column index is x₀ … x_(c−1), the row index
//! x_c … x_(c+r−1), and M̃ is zero on padded rows and columns. A point on M̃ is therefore written
//! `[col_point ‖ row_point]`. The data is never copied or padded.

use super::{eq_evals, num_vars_for};
use crate::field::{column_combination_i32, column_combination_i8, Fp};

/// M̃(col_point, row_point) for an int8 matrix: Σᵢ eq(row_point, i) · Σⱼ eq(col_point, j) · M[i][j].
///
/// # Panics
/// If the data or the point lengths do not match the shape.
pub fn evaluate_matrix_i8(
    m: &[i8],
    rows: usize,
    cols: usize,
    col_point: &[Fp],
    row_point: &[Fp],
) -> Fp {
    evaluate_matrix(m, rows, cols, col_point, row_point, column_combination_i8)
}

/// M̃(col_point, row_point) for an int32 matrix; see [`evaluate_matrix_i8`].
pub fn evaluate_matrix_i32(
    m: &[i32],
    rows: usize,
    cols: usize,
    col_point: &[Fp],
    row_point: &[Fp],
) -> Fp {
    evaluate_matrix(m, rows, cols, col_point, row_point, column_combination_i32)
}

/// Σᵢ eq(row_point, i) · (M·eq(col_point))ᵢ, with the column fold `by_columns`.
fn evaluate_matrix<T>(
    m: &[T],
    rows: usize,
    cols: usize,
    col_point: &[Fp],
    row_point: &[Fp],
    by_columns: fn(&[T], usize, usize, &[Fp]) -> Vec<Fp>,
) -> Fp {
    assert_eq!(col_point.len(), num_vars_for(cols), "column point does not match {cols} columns");
    assert_eq!(row_point.len(), num_vars_for(rows), "row point does not match {rows} rows");
    let by_row = by_columns(m, rows, cols, &eq_evals(col_point));
    eq_evals(row_point).iter().zip(&by_row).map(|(e, v)| *e * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{from_i32, from_i8};
    use crate::poly::evaluate_padded;
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The matrix copied into an explicitly padded 2^r × 2^c table.
    fn padded<T: Copy>(m: &[T], rows: usize, cols: usize, f: impl Fn(T) -> Fp) -> Vec<Fp> {
        let (pc, pr) = (1 << num_vars_for(cols), 1 << num_vars_for(rows));
        let mut out = vec![Fp::default(); pc * pr];
        for i in 0..rows {
            for j in 0..cols {
                out[i * pc + j] = f(m[i * cols + j]);
            }
        }
        out
    }

    #[test]
    fn matrix_mles_equal_the_mle_of_the_padded_table() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        for &(rows, cols) in &[(1usize, 1usize), (1, 5), (5, 1), (3, 3), (8, 8), (9, 17), (100, 33)]
        {
            let m8: Vec<i8> = (0..rows * cols).map(|_| rng.gen()).collect();
            let m32: Vec<i32> = (0..rows * cols).map(|_| rng.gen()).collect();
            let cp: Vec<Fp> = (0..num_vars_for(cols)).map(|_| Fp::rand(&mut rng)).collect();
            let rp: Vec<Fp> = (0..num_vars_for(rows)).map(|_| Fp::rand(&mut rng)).collect();
            let point: Vec<Fp> = cp.iter().chain(&rp).copied().collect();
            assert_eq!(
                evaluate_matrix_i8(&m8, rows, cols, &cp, &rp),
                evaluate_padded(&padded(&m8, rows, cols, from_i8), &point)
            );
            assert_eq!(
                evaluate_matrix_i32(&m32, rows, cols, &cp, &rp),
                evaluate_padded(&padded(&m32, rows, cols, from_i32), &point)
            );
        }
    }
}
