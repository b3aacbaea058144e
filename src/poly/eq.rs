//! eq(r, x) = Πᵢ (rᵢ·xᵢ + (1 − rᵢ)·(1 − xᵢ)), the multilinear extension of the equality predicate.

use super::PAR_THRESHOLD;
use crate::field::Fp;
use ark_ff::One;
use rayon::prelude::*;

/// The table of eq(r, ·) over {0,1}^n (n = `r.len()`), index bit i = xᵢ, in 2^n multiplications.
pub fn eq_evals(r: &[Fp]) -> Vec<Fp> {
    eq_evals_scaled(r, Fp::one())
}

/// `scale · eq(r, ·)` over {0,1}^n: one multiplication per entry.
pub fn eq_evals_scaled(r: &[Fp], scale: Fp) -> Vec<Fp> {
    let mut table = vec![Fp::default(); 1 << r.len()];
    if let Some(first) = table.first_mut() {
        *first = scale;
    }
    for (i, ri) in r.iter().enumerate() {
        // entries 0..2^i hold eq over x₀..x_(i−1); split each by xᵢ
        let (lo, hi) = table.split_at_mut(1 << i);
        let step = |(l, h): (&mut Fp, &mut Fp)| {
            *h = *l * ri;
            *l -= *h;
        };
        if lo.len() >= PAR_THRESHOLD {
            lo.par_iter_mut().zip(hi.par_iter_mut()).for_each(step);
        } else {
            lo.iter_mut().zip(hi.iter_mut()).for_each(step);
        }
    }
    table
}

/// eq(r, s) for two points of the same length, in O(n).
///
/// # Panics
/// If the lengths differ.
pub fn eq_eval(r: &[Fp], s: &[Fp]) -> Fp {
    assert_eq!(r.len(), s.len(), "eq of points with different numbers of variables");
    r.iter()
        .zip(s)
        .map(|(a, b)| {
            let ab = *a * b;
            ab + ab - a - b + Fp::one()
        })
        .product()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{UniformRand, Zero};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn bits(index: usize, n: usize) -> Vec<Fp> {
        (0..n).map(|i| Fp::from(((index >> i) & 1) as u64)).collect()
    }

    #[test]
    fn table_matches_pointwise_eq() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        for n in [0usize, 1, 2, 5, 13] {
            let r: Vec<Fp> = (0..n).map(|_| Fp::rand(&mut rng)).collect();
            let table = eq_evals(&r);
            assert_eq!(table.len(), 1 << n);
            for (i, t) in table.iter().enumerate().step_by(1 + (1 << n) / 64) {
                assert_eq!(*t, eq_eval(&r, &bits(i, n)));
            }
            let sum: Fp = table.iter().sum();
            assert_eq!(sum, Fp::one());
        }
    }

    #[test]
    fn eq_on_the_hypercube_is_the_indicator() {
        for a in 0..8 {
            for b in 0..8 {
                let v = eq_eval(&bits(a, 3), &bits(b, 3));
                assert_eq!(v, if a == b { Fp::one() } else { Fp::zero() });
            }
        }
    }
}
