//! Multilinear extensions, the eq polynomial and univariate round polynomials.
//!
//! # Variable order
//! A vector `v` of length 2^n is the table of an n-variate multilinear polynomial ṽ on {0,1}^n with
//! **bit i of the index equal to xᵢ** (little-endian): v[b₀ + 2·b₁ + … + 2^(n−1)·b_(n−1)] =
//! ṽ(b₀, …, b_(n−1)). A point is written in the same order, `point[i]` = xᵢ, and sumcheck binds x₀
//! first. A row-major m×k matrix padded to 2^a × 2^b therefore has its column variables first
//! (x₀ … x_(b−1)) and its row variables after them.
//!
//! Vectors shorter than 2^n are read as zero-padded: the padded entries are never materialised.

mod eq;
mod matrix;
mod mle;
mod univariate;

pub use eq::{eq_eval, eq_evals, eq_evals_scaled};
pub use matrix::{evaluate_matrix_i32, evaluate_matrix_i8};
pub use mle::{evaluate_i32, evaluate_i8, evaluate_padded, DenseMle};
pub use univariate::UniPoly;

/// Below this many outputs (folded entries, sumcheck pairs, eq entries) table operations run on
/// one thread. Measured (`cargo bench --bench mle -- par_crossover`): a rayon split costs about
/// 15 µs here, and a fold of 2^12 outputs is where two threads start to win (see
/// `paper-notes/field.md`).
pub const PAR_THRESHOLD: usize = 1 << 12;

/// The number of variables of the smallest hypercube that holds `len` entries (0 for len ≤ 1).
///
/// ```
/// use gkrnet::poly::num_vars_for;
/// assert_eq!((num_vars_for(0), num_vars_for(1), num_vars_for(5), num_vars_for(8)), (0, 0, 3, 3));
/// assert_eq!(num_vars_for(usize::MAX), 64);
/// ```
pub fn num_vars_for(len: usize) -> usize {
    // lengths above 2^63 have no power of two in usize: they need all 64 variables
    len.max(1).checked_next_power_of_two().map_or(usize::BITS, |p| p.trailing_zeros()) as usize
}
