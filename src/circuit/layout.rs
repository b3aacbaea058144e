//! How a tensor becomes a multilinear polynomial: row-major data, every axis padded to a power of
//! two on its own, the last axis on the lowest variables (x_0 …). A matrix [m, k] is therefore
//! the layout of `poly::evaluate_matrix_*`: point = [column variables ‖ row variables].
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use crate::field::{from_i64, Fp};
use crate::lookup::prefix_indicator;
use crate::poly::{eq_evals, num_vars_for};
use std::ops::Range;

/// The padded layout of a tensor of the given dimensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    dims: Vec<usize>,
    bits: Vec<usize>,
}

impl Layout {
    pub fn new(dims: &[usize]) -> Self {
        Self { dims: dims.to_vec(), bits: dims.iter().map(|&d| num_vars_for(d)).collect() }
    }

    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// Entries of the unpadded tensor.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn num_vars(&self) -> usize {
        self.bits.iter().sum()
    }

    pub fn padded_len(&self) -> usize {
        1 << self.num_vars()
    }

    /// The variables of axis `axis` (the last axis has the lowest ones).
    pub fn axis_vars(&self, axis: usize) -> Range<usize> {
        let start: usize = self.bits[axis + 1..].iter().sum();
        start..start + self.bits[axis]
    }

    /// The padded position of the row-major index `i`.
    pub fn pad_index(&self, mut i: usize) -> usize {
        let (mut out, mut shift) = (0, 0);
        for (d, b) in self.dims.iter().zip(&self.bits).rev() {
            out |= (i % d) << shift;
            i /= d;
            shift += b;
        }
        out
    }

    /// The data scattered into its padded positions, zeros elsewhere.
    pub fn pad<T: Copy + Default>(&self, data: &[T]) -> Vec<T> {
        debug_assert_eq!(data.len(), self.len());
        let mut out = vec![T::default(); self.padded_len()];
        // rows of the last axis stay contiguous
        let last = self.dims.last().copied().unwrap_or(1);
        if last == 0 {
            return out;
        }
        for (r, row) in data.chunks(last).enumerate() {
            let start = self.pad_index(r * last);
            out[start..start + row.len()].copy_from_slice(row);
        }
        out
    }

    /// The padded table of an integer tensor as field elements.
    pub fn pad_fp(&self, data: &[i64]) -> Vec<Fp> {
        self.pad(data).into_iter().map(from_i64).collect()
    }

    /// Whether each padded slot holds a tensor entry.
    pub fn mask(&self) -> Vec<bool> {
        self.pad(&vec![true; self.len()])
    }

    /// The MLE of the mask at `point` (num_vars coordinates).
    pub fn mask_eval(&self, point: &[Fp]) -> Fp {
        (0..self.dims.len())
            .map(|a| prefix_indicator(self.dims[a], &point[self.axis_vars(a)]))
            .product()
    }

    /// Σ over valid x of eq(τ, x)·eq(ρ, x): the MLE of eq(τ, ·)·mask at ρ, axis by axis, each
    /// axis in O(its bits) (`prefix_eq_sum`).
    pub fn masked_eq_eval(&self, tau: &[Fp], rho: &[Fp]) -> Fp {
        (0..self.dims.len())
            .map(|a| {
                let vars = self.axis_vars(a);
                prefix_eq_sum(self.dims[a], &tau[vars.clone()], &rho[vars])
            })
            .product()
    }

    /// The table eq(τ, x)·mask(x).
    pub fn masked_eq_table(&self, tau: &[Fp]) -> Vec<Fp> {
        let mut eq = eq_evals(tau);
        for (e, valid) in eq.iter_mut().zip(self.mask()) {
            if !valid {
                *e = Fp::default();
            }
        }
        eq
    }
}

/// Σ eqᵢ·vᵢ for integers v (int32 data takes the delayed-reduction dot product).
pub fn dot_ints(values: &[i64], eq: &[Fp]) -> Fp {
    match values.iter().map(|&v| i32::try_from(v).ok()).collect::<Option<Vec<i32>>>() {
        Some(small) => crate::field::dot_i32(&eq[..small.len()], &small),
        None => values.iter().zip(eq).map(|(&v, e)| from_i64(v) * e).sum(),
    }
}

/// Σ_{x < len} eq(τ, x)·eq(ρ, x) over x ∈ {0,1}^n (bit j of x is variable j): per bit the
/// weights a_j = τ_jρ_j (bit 1) and b_j = (1 − τ_j)(1 − ρ_j) (bit 0), summed over the prefix
/// digit by digit from the top bit, as `lookup::prefix_indicator` does for one point.
fn prefix_eq_sum(len: usize, tau: &[Fp], rho: &[Fp]) -> Fp {
    let one = Fp::from(1u64);
    let w: Vec<(Fp, Fp)> =
        tau.iter().zip(rho).map(|(t, r)| (*t * r, (one - t) * (one - r))).collect();
    // lower[i] = Π_{j < i} (a_j + b_j): all settings of the bits below i
    let mut lower = Vec::with_capacity(w.len() + 1);
    lower.push(one);
    for (a, b) in &w {
        let last = *lower.last().unwrap_or(&one);
        lower.push(last * (*a + b));
    }
    let n = w.len();
    if n < usize::BITS as usize && len >= 1 << n {
        return lower[n];
    }
    let (mut total, mut above) = (Fp::from(0u64), one);
    for bit in (0..n).rev() {
        let (a, b) = w[bit];
        if (len >> bit) & 1 == 1 {
            total += above * b * lower[bit];
            above *= a;
        } else {
            above *= b;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::{evaluate_matrix_i32, evaluate_padded};
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn matrices_match_the_matrix_evaluation_and_masks_match_their_tables() {
        let mut rng = ChaCha20Rng::seed_from_u64(90);
        let all = [
            vec![3, 5],
            vec![1, 10],
            vec![4, 4],
            vec![2, 3, 5],
            vec![7],
            vec![1],
            vec![8, 3],
            vec![13],
        ];
        for dims in all {
            let l = Layout::new(&dims);
            let data: Vec<i64> = (0..l.len() as i64).map(|i| i * 7 - 20).collect();
            let point: Vec<Fp> = (0..l.num_vars()).map(|_| Fp::rand(&mut rng)).collect();
            let table = l.pad_fp(&data);
            if dims.len() == 2 {
                let d32: Vec<i32> = data.iter().map(|&v| v as i32).collect();
                let (cols, rows) = point.split_at(l.axis_vars(1).len());
                assert_eq!(
                    evaluate_padded(&table, &point),
                    evaluate_matrix_i32(&d32, dims[0], dims[1], cols, rows)
                );
            }
            let mask: Vec<Fp> = l.mask().into_iter().map(|b| Fp::from(b as u64)).collect();
            assert_eq!(l.mask_eval(&point), evaluate_padded(&mask, &point));
            let tau: Vec<Fp> = (0..l.num_vars()).map(|_| Fp::rand(&mut rng)).collect();
            assert_eq!(
                l.masked_eq_eval(&tau, &point),
                evaluate_padded(&l.masked_eq_table(&tau), &point)
            );
        }
    }
}
