//! Univariate polynomials of low degree given by their values at 0, 1, …, d.

use crate::field::Fp;
use ark_ff::{batch_inversion, One, Zero};

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

    /// g(r) by Lagrange interpolation over the nodes 0..=d, in O(d) multiplications and one batched
    /// inversion of d + 1 small non-zero constants. Total on every input (the empty polynomial is 0).
    pub fn evaluate(&self, r: &Fp) -> Fp {
        let n = self.evals.len();
        if n == 0 {
            return Fp::zero();
        }
        // prefix[i] = Π_{j<i} (r − j), suffix[i] = Π_{j>i} (r − j)
        let diffs: Vec<Fp> = (0..n).map(|j| *r - Fp::from(j as u64)).collect();
        let mut prefix = vec![Fp::one(); n];
        let mut suffix = vec![Fp::one(); n];
        for i in 1..n {
            prefix[i] = prefix[i - 1] * diffs[i - 1];
            suffix[n - 1 - i] = suffix[n - i] * diffs[n - i];
        }
        // denominators Π_{j≠i} (i − j) = i! · (−1)^(d−i) · (d−i)!, all non-zero since d < p
        let mut factorial = vec![Fp::one(); n];
        for i in 1..n {
            factorial[i] = factorial[i - 1] * Fp::from(i as u64);
        }
        let d = n - 1;
        let mut denominators: Vec<Fp> = (0..n)
            .map(|i| {
                let v = factorial[i] * factorial[d - i];
                if (d - i) % 2 == 1 {
                    -v
                } else {
                    v
                }
            })
            .collect();
        batch_inversion(&mut denominators);
        (0..n)
            .map(|i| self.evals[i] * prefix[i] * suffix[i] * denominators[i])
            .sum()
    }
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
        for degree in 0..=8 {
            let coeffs: Vec<Fp> = (0..=degree).map(|_| Fp::rand(&mut rng)).collect();
            let horner = |x: Fp| coeffs.iter().rev().fold(Fp::zero(), |acc, c| acc * x + c);
            let g = UniPoly::from_evals((0..=degree).map(|i| horner(Fp::from(i as u64))).collect());
            assert_eq!(g.degree(), degree);
            for _ in 0..5 {
                let r = Fp::rand(&mut rng);
                assert_eq!(g.evaluate(&r), horner(r));
            }
            // at the nodes themselves too
            assert_eq!(
                g.evaluate(&Fp::from(degree as u64)),
                horner(Fp::from(degree as u64))
            );
        }
        assert_eq!(UniPoly::from_evals(vec![]).evaluate(&Fp::one()), Fp::zero());
    }
}
