//! The prover's advice for one requantized element and an integer check of its relations (the
//! mock prover of `paper-notes/requant.md`). The proof of these relations comes with issue 5; the
//! advice and the check fix what it must prove.

use super::FixedPoint;

/// The advice of one element of y = clamp(round_half_even(acc·a / 2^k) + z, lo, hi).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantAdvice {
    /// ⌊acc·a / 2^k⌋ (floor, also for negative products).
    pub q: i128,
    /// acc·a − q·2^k ∈ [0, 2^k).
    pub rem: i128,
    /// q mod 2.
    pub par: i128,
    /// The rounding bit: 1 iff rem + par > 2^(k−1).
    pub b: i128,
    /// The clamped output.
    pub y: i128,
    /// max(lo − u, 0) and max(u − hi, 0) for the unclamped u = q + b + z.
    pub c_lo: i128,
    pub c_hi: i128,
}

/// The parameters of one requantization.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequantParams {
    pub m: FixedPoint,
    pub zero_point: i32,
    pub lo: i32,
    pub hi: i32,
}

impl RequantAdvice {
    /// The honest advice for an accumulator.
    pub fn new(acc: i64, p: &RequantParams) -> Self {
        let product = acc as i128 * p.m.a as i128; // |·| < 2^94
        let k = p.m.k;
        let q = product >> k; // floor
        let rem = product - (q << k);
        let par = q.rem_euclid(2);
        let b = if k == 0 { 0 } else { i128::from(rem + par > 1i128 << (k - 1)) };
        let u = q + b + p.zero_point as i128;
        let (lo, hi) = (p.lo as i128, p.hi as i128);
        Self { q, rem, par, b, y: u.clamp(lo, hi), c_lo: (lo - u).max(0), c_hi: (u - hi).max(0) }
    }

    /// Checks relations 1–6 of `paper-notes/requant.md` over the integers, with the ranges the
    /// proof will enforce. `true` iff the advice is the only valid one for `acc`.
    pub fn check(&self, acc: i64, p: &RequantParams) -> bool {
        let k = p.m.k;
        let product = acc as i128 * p.m.a as i128;
        let two_k = 1i128 << k;
        let (lo, hi, z) = (p.lo as i128, p.hi as i128, p.zero_point as i128);
        let q_bound = 1i128 << (94 - k); // |q| ≤ 2^(94−k)
        let bit = |x: i128| x == 0 || x == 1;
        let u = self.q + self.b + z;
        let d = if k == 0 {
            0
        } else {
            let h = 1i128 << (k - 1);
            self.b * (self.rem + self.par - h - 1) + (1 - self.b) * (h - self.rem - self.par)
        };
        product == self.q * two_k + self.rem
            && (0..two_k).contains(&self.rem)
            && self.q.abs() <= q_bound
            && bit(self.b)
            && bit(self.par)
            && (self.q - self.par) % 2 == 0
            && (k > 0 || (self.b == 0 && self.rem == 0))
            && (0..two_k.max(1)).contains(&d)
            && (lo..=hi).contains(&self.y)
            && self.c_lo >= 0
            && self.c_hi >= 0
            && u == self.y - self.c_lo + self.c_hi
            && self.c_lo * (self.y - lo) == 0
            && self.c_hi * (hi - self.y) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::super::{div_pow2_round_half_even, requantize};
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn params(rng: &mut ChaCha20Rng) -> RequantParams {
        let m = FixedPoint {
            a: rng.gen_range(1..1u32 << 31),
            k: rng.gen_range(0..=super::super::MAX_SHIFT),
        };
        let z = rng.gen_range(-128..=127);
        let (lo, hi) = if rng.gen() { (-128, 127) } else { (z, 127) };
        RequantParams { m, zero_point: z, lo, hi }
    }

    #[test]
    fn honest_advice_matches_the_reference_and_passes_the_check() {
        let mut rng = ChaCha20Rng::seed_from_u64(80);
        for i in 0..200_000 {
            let p = params(&mut rng);
            let acc: i64 = match i % 4 {
                0 => rng.gen::<i32>() as i64,
                1 => rng.gen(),
                2 => rng.gen_range(-300..300),
                _ => [i64::MIN, i64::MAX, 0, -1, 1][i % 5],
            };
            let adv = RequantAdvice::new(acc, &p);
            assert_eq!(adv.y, requantize(acc, p.m, p.zero_point, p.lo, p.hi) as i128);
            assert!(adv.check(acc, &p), "acc {acc} {p:?} {adv:?}");
        }
        // ties both ways: 2^(k−1) with q even and odd
        for k in 1..8u32 {
            let m = FixedPoint { a: 1, k };
            let p = RequantParams { m, zero_point: 0, lo: -128, hi: 127 };
            for acc in -600i64..600 {
                let adv = RequantAdvice::new(acc, &p);
                assert_eq!(adv.q + adv.b, div_pow2_round_half_even(acc as i128, k));
                assert!(adv.check(acc, &p));
            }
        }
    }

    #[test]
    fn the_check_rejects_every_kind_of_wrong_advice() {
        let mut rng = ChaCha20Rng::seed_from_u64(81);
        for _ in 0..20_000 {
            let mut p = params(&mut rng);
            p.m.k = p.m.k.max(1);
            let acc = rng.gen::<i32>() as i64;
            let honest = RequantAdvice::new(acc, &p);
            let two_k = 1i128 << p.m.k;
            let mut bad = Vec::new();
            // quotient ±1 with the remainder moved by 2^k: caught by the exact remainder range
            bad.push(RequantAdvice { q: honest.q + 1, rem: honest.rem - two_k, ..honest });
            bad.push(RequantAdvice { q: honest.q - 1, rem: honest.rem + two_k, ..honest });
            // the rounding bit flipped
            bad.push(RequantAdvice { b: 1 - honest.b, ..honest });
            // a clamp that passes a value through instead of saturating, or saturates wrongly
            bad.push(RequantAdvice { y: honest.y + 1, ..honest });
            bad.push(RequantAdvice { y: honest.y - 1, ..honest });
            bad.push(RequantAdvice { c_lo: honest.c_lo + 1, y: honest.y + 1, ..honest });
            bad.push(RequantAdvice { par: 1 - honest.par, ..honest });
            for b in bad {
                assert!(!b.check(acc, &p), "accepted {b:?} for honest {honest:?}");
            }
        }
    }
}
