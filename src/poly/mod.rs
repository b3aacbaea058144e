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
pub fn num_vars_for(len: usize) -> usize {
    len.max(1).next_power_of_two().trailing_zeros() as usize
}
