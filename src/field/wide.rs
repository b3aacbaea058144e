//! Sums of products with one reduction: Σ xᵢ·yᵢ accumulated as unreduced 256-bit integers.
//!
//! For Montgomery representations X = x·R and Y = y·R (R = 2^128), Σ Xᵢ·Yᵢ = (Σ xᵢyᵢ)·R² as
//! integers mod p. The four 64×64-bit partial products of each term are added into four u128
//! columns of weight 2^0, 2^64, 2^128, 2^192 (each column gains less than 3·2^64 per term, so 2^60
//! terms fit; callers stay far below), and [`WideAcc::finish`] reduces once: carry-propagate,
//! read the integer as a field value, multiply by R^-2.

use super::{montgomery_limbs, Fp};
use ark_ff::MontFp;

/// 2^-256 mod p, i.e. R^-2.
const R_INV_SQUARED: Fp = MontFp!("127605887595351923715755129455220097035");

/// An unreduced Σ xᵢ·yᵢ.
#[derive(Clone, Copy, Debug, Default)]
pub struct WideAcc {
    columns: [u128; 4],
}

impl WideAcc {
    /// Adds x·y without reducing (four u64 multiplications).
    #[inline(always)]
    pub fn add_product(&mut self, x: &Fp, y: &Fp) {
        let [x0, x1] = montgomery_limbs(x);
        let [y0, y1] = montgomery_limbs(y);
        let p00 = x0 as u128 * y0 as u128;
        let p01 = x0 as u128 * y1 as u128;
        let p10 = x1 as u128 * y0 as u128;
        let p11 = x1 as u128 * y1 as u128;
        const LO: u128 = u64::MAX as u128;
        self.columns[0] += p00 & LO;
        self.columns[1] += (p00 >> 64) + (p01 & LO) + (p10 & LO);
        self.columns[2] += (p01 >> 64) + (p10 >> 64) + (p11 & LO);
        self.columns[3] += p11 >> 64;
    }

    /// Σ xᵢ·yᵢ as a field element.
    pub fn finish(self) -> Fp {
        // carry-propagate into 64-bit limbs c₀ … c₄ (column sums stay below 2^126)
        let mut limbs = [0u64; 5];
        let mut carry = 0u128;
        let (low, top) = limbs.split_at_mut(4);
        for (limb, column) in low.iter_mut().zip(&self.columns) {
            let t = column + carry;
            *limb = t as u64;
            carry = t >> 64;
        }
        top.iter_mut().for_each(|l| *l = carry as u64);
        debug_assert!(carry >> 64 == 0);
        // the integer Σ cᵢ·2^(64i) as a field value (Horner), then · R^-2
        let two_64 = Fp::from(1u128 << 64);
        let value = limbs.iter().rev().fold(Fp::from(0u64), |acc, &c| acc * two_64 + Fp::from(c));
        value * R_INV_SQUARED
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, UniformRand};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn unreduced_sums_equal_field_sums() {
        let mut rng = ChaCha20Rng::seed_from_u64(90);
        assert_eq!(R_INV_SQUARED * Fp::from(2u64).pow([256u64]), Fp::from(1u64));
        for n in [0usize, 1, 2, 17, 5000] {
            let xs: Vec<Fp> = (0..n).map(|_| Fp::rand(&mut rng)).collect();
            let ys: Vec<Fp> = (0..n).map(|_| Fp::rand(&mut rng)).collect();
            let mut acc = WideAcc::default();
            for (x, y) in xs.iter().zip(&ys) {
                acc.add_product(x, y);
            }
            let expected: Fp = xs.iter().zip(&ys).map(|(x, y)| *x * y).sum();
            assert_eq!(acc.finish(), expected);
        }
        // the largest representations
        let big = -Fp::from(1u64);
        let mut acc = WideAcc::default();
        for _ in 0..100_000 {
            acc.add_product(&big, &big);
        }
        assert_eq!(acc.finish(), Fp::from(100_000u64));
    }
}
