//! Univariate polynomials of low degree given by their values at 0, 1, …, d.

use crate::field::Fp;
use ark_ff::{batch_inversion, One, Zero};
use std::sync::OnceLock;

/// g of degree ≤ d, stored as g(0), g(1), …, g(d).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UniPoly {
    evals: Vec<Fp>,
}

impl UniPoly {
    pub fn from_evals(evals: Vec<Fp>) -> Self {
        Self { evals }
    }

    pub fn evals(&self) -> &[Fp] {
        &self.evals
    }

    /// The degree bound d (number of evaluations − 1); 0 for the empty polynomial.
    pub fn degree(&self) -> usize {
        self.evals.len().saturating_sub(1)
    }

    /// g(r) by Lagrange interpolation over the nodes 0..=d in O(d) multiplications. The weights
    /// 1/Π_{j≠i}(i − j) = (−1)^(d−i) / (i!·(d−i)!) come from a table of inverse factorials built
    /// once per process, so no call inverts anything. Total on every input (the empty polynomial
    /// is 0).
    pub fn evaluate(&self, r: &Fp) -> Fp {
        let n = self.evals.len();
        if n == 0 {
            return Fp::zero();
        }
        let d = n - 1;
        // prefix[i] = Π_{j<i} (r − j), suffix[i] = Π_{j>i} (r − j)
        let diffs: Vec<Fp> = (0..n).map(|j| *r - Fp::from(j as u64)).collect();
        let mut acc = Fp::one();
        let prefix: Vec<Fp> = diffs
            .iter()
            .map(|x| {
                let p = acc;
                acc *= x;
                p
            })
            .collect();
        let mut suffix = vec![Fp::one(); n];
        acc = Fp::one();
        for (s, x) in suffix.iter_mut().zip(&diffs).rev() {
            *s = acc;
            acc *= x;
        }
        // inv_fact has d + 1 = n entries: read backwards, entry i is 1/(d − i)!
        let inv_fact = inverse_factorials(d);
        let weights = inv_fact.iter().zip(inv_fact.iter().rev());
        (self.evals.iter().zip(&prefix).zip(&suffix).zip(weights).enumerate())
            .map(|(i, (((e, p), s), (fi, fdi)))| {
                let term = *e * p * s * fi * fdi;
                if (d - i) % 2 == 1 {
                    -term
                } else {
                    term
                }
            })
            .sum()
    }
}

/// Degrees up to this bound use the cached table; higher ones build their own.
const CACHED_DEGREE: usize = 64;

/// 1/0!, 1/1!, …, 1/d! (all factorials are non-zero: d < p).
fn inverse_factorials(d: usize) -> std::borrow::Cow<'static, [Fp]> {
    static TABLE: OnceLock<Vec<Fp>> = OnceLock::new();
    // the table holds degrees up to CACHED_DEGREE
    match TABLE.get_or_init(|| build_inverse_factorials(CACHED_DEGREE)).get(..=d) {
        Some(table) => std::borrow::Cow::Borrowed(table),
        None => std::borrow::Cow::Owned(build_inverse_factorials(d)),
    }
}

fn build_inverse_factorials(d: usize) -> Vec<Fp> {
    let mut acc = Fp::one();
    let mut fact: Vec<Fp> = std::iter::once(acc)
        .chain((1..=d).map(|i| {
            acc *= Fp::from(i as u64);
            acc
        }))
        .collect();
    batch_inversion(&mut fact);
    fact
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn interpolation_reproduces_random_polynomials() {
        let mut rng = ChaCha20Rng::seed_from_u64(9);
        for degree in [0, 1, 2, 3, 4, 5, 8, 16, 64, 65, 70] {
            let coeffs: Vec<Fp> = (0..=degree).map(|_| Fp::rand(&mut rng)).collect();
            let horner = |x: Fp| coeffs.iter().rev().fold(Fp::zero(), |acc, c| acc * x + c);
            let g = UniPoly::from_evals((0..=degree).map(|i| horner(Fp::from(i as u64))).collect());
            assert_eq!(g.degree(), degree);
            for _ in 0..5 {
                let r = Fp::rand(&mut rng);
                assert_eq!(g.evaluate(&r), horner(r));
            }
            // at the nodes themselves too
            assert_eq!(g.evaluate(&Fp::from(degree as u64)), horner(Fp::from(degree as u64)));
        }
        assert_eq!(UniPoly::from_evals(vec![]).evaluate(&Fp::one()), Fp::zero());
    }
}
