//! Univariate polynomials of low degree given by their values at 0, 1, …, d.
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

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
        let mut prefix = vec![Fp::one(); n];
        let mut suffix = vec![Fp::one(); n];
        for i in 1..n {
            prefix[i] = prefix[i - 1] * diffs[i - 1];
            suffix[n - 1 - i] = suffix[n - i] * diffs[n - i];
        }
        let inv_fact = inverse_factorials(d);
        (0..n)
            .map(|i| {
                let term = self.evals[i] * prefix[i] * suffix[i] * inv_fact[i] * inv_fact[d - i];
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
    if d <= CACHED_DEGREE {
        let table = TABLE.get_or_init(|| build_inverse_factorials(CACHED_DEGREE));
        std::borrow::Cow::Borrowed(&table[..=d])
    } else {
        std::borrow::Cow::Owned(build_inverse_factorials(d))
    }
}

fn build_inverse_factorials(d: usize) -> Vec<Fp> {
    let mut fact = vec![Fp::one(); d + 1];
    for i in 1..=d {
        fact[i] = fact[i - 1] * Fp::from(i as u64);
    }
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
