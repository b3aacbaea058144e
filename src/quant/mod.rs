//! Integer arithmetic of int8-quantized networks: the reference every proof must match bit for bit.
//!
//! A real value v is stored as an integer q with zero point z and scale s: v = (q − z)·s. A layer
//! accumulates integer products into `acc` and rescales it by the real factor
//! M = s_in·s_w / s_out, replaced by a fixed-point fraction a / 2^k ([`FixedPoint`]). The output is
//!
//! ```text
//!   y = clamp( round_half_even(acc·a / 2^k) + z_out, lo, hi )
//! ```
//! ([`requantize`]), ONNX's rounding (half to even), with ReLU fused by raising `lo` to z_out.
//!
//! Bounds, written where they are used: a < 2^31 and |acc| < 2^63, so |acc·a| < 2^94: the product
//! is computed in i128 and stays far inside the proof field (< 2^126), leaving room for the
//! quotient/remainder relation acc·a = q·2^k + rem the circuit will check.

mod activation;

pub use activation::Activation;

use thiserror::Error;

/// Why a real multiplier has no fixed-point form.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum QuantError {
    #[error("the rescale factor {0} is not a positive finite number")]
    NotPositive(f64),
    #[error("the rescale factor {0} is too large: a fixed-point a/2^k needs it below 2^31")]
    TooLarge(f64),
    #[error("the rescale factor {0} is too small: it would need a shift above {MAX_SHIFT} bits")]
    TooSmall(f64),
}

/// The largest shift k a [`FixedPoint`] uses. With a < 2^31, M ≥ 2^-(MAX_SHIFT − 30) ≈ 2^-32 is
/// represented with relative error below 2^-30.
pub const MAX_SHIFT: u32 = 62;

/// A positive real multiplier M ≈ a / 2^k, with 1 ≤ a < 2^31 and 0 ≤ k ≤ [`MAX_SHIFT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedPoint {
    pub a: u32,
    pub k: u32,
}

impl FixedPoint {
    /// The closest a/2^k with a normalised into [2^30, 2^31) (so the relative error is at most
    /// 2^-31 when no clamping of k is needed), or the largest usable shift for tiny factors.
    ///
    /// # Errors
    /// [`QuantError`] if `m` is not positive and finite, is ≥ 2^31, or is below 2^-(MAX_SHIFT + 1)
    /// (it would round to a = 0).
    pub fn from_real(m: f64) -> Result<Self, QuantError> {
        if !(m.is_finite() && m > 0.0) {
            return Err(QuantError::NotPositive(m));
        }
        if m >= (1u64 << 31) as f64 {
            return Err(QuantError::TooLarge(m));
        }
        // m = f · 2^e with f ∈ [0.5, 1): a = f·2^31 ∈ [2^30, 2^31) needs k = 31 − e
        let e = m.log2().floor() as i32 + 1;
        let k = (31 - e).clamp(0, MAX_SHIFT as i32) as u32;
        let scaled = (m * 2f64.powi(k as i32)).round_ties_even();
        // rounding can carry into 2^31: renormalise by one bit
        let (a, k) = if scaled >= (1u64 << 31) as f64 {
            if k == 0 {
                return Err(QuantError::TooLarge(m));
            }
            ((scaled / 2.0).round_ties_even(), k - 1)
        } else {
            (scaled, k)
        };
        if a < 1.0 {
            return Err(QuantError::TooSmall(m));
        }
        Ok(Self { a: a as u32, k })
    }

    /// a / 2^k as a real.
    pub fn to_f64(self) -> f64 {
        self.a as f64 / 2f64.powi(self.k as i32)
    }

    /// |a/2^k − m| / m.
    pub fn relative_error(self, m: f64) -> f64 {
        ((self.to_f64() - m) / m).abs()
    }
}

/// round_half_even(x / 2^k) for any x and k ≤ 126: the floor quotient, plus one when the remainder
/// is above half, or exactly half and the floor quotient is odd.
///
/// # Panics
/// If k > 126.
pub fn div_pow2_round_half_even(x: i128, k: u32) -> i128 {
    assert!(k <= 126, "shift {k} above 126");
    if k == 0 {
        return x;
    }
    let q = x >> k; // floor division
    let rem = x - (q << k); // in [0, 2^k)
    let half = 1i128 << (k - 1);
    if rem > half || (rem == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// Requantization: clamp(round_half_even(acc·a / 2^k) + zero_point, lo, hi).
///
/// `acc` may be any i64 (a dense accumulator fits i32; the elementwise-add path needs more);
/// |acc·a| < 2^63·2^31 = 2^94 is computed exactly in i128.
///
/// # Panics
/// If lo > hi.
pub fn requantize(acc: i64, m: FixedPoint, zero_point: i32, lo: i32, hi: i32) -> i32 {
    assert!(lo <= hi, "empty clamp range [{lo}, {hi}]");
    let scaled = div_pow2_round_half_even(acc as i128 * m.a as i128, m.k);
    // |scaled| < 2^94; adding a zero point cannot overflow i128
    (scaled + zero_point as i128).clamp(lo as i128, hi as i128) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// round_half_even(x / 2^k) by exact rational reasoning on i128: compare 2·rem with 2^k.
    fn reference(x: i128, k: u32) -> i128 {
        let d = 1i128 << k;
        let q = x.div_euclid(d);
        let r2 = 2 * x.rem_euclid(d);
        match r2.cmp(&d) {
            std::cmp::Ordering::Greater => q + 1,
            std::cmp::Ordering::Less => q,
            std::cmp::Ordering::Equal => q + (q & 1),
        }
    }

    #[test]
    fn rounding_is_half_to_even() {
        for (x, k, want) in [
            (5, 1, 2),
            (7, 1, 4),
            (-5, 1, -2),
            (-7, 1, -4),
            (3, 1, 2),
            (-3, 1, -2),
            (1, 1, 0),
            (-1, 1, 0),
            (6, 2, 2),
            (10, 2, 2),
            (14, 2, 4),
            (-10, 2, -2),
            (9, 2, 2),
            (-9, 2, -2),
        ] {
            assert_eq!(div_pow2_round_half_even(x, k), want, "{x} / 2^{k}");
        }
        let mut rng = ChaCha20Rng::seed_from_u64(60);
        for _ in 0..100_000 {
            let k = rng.gen_range(0..=100u32);
            let x: i128 = rng.gen::<i64>() as i128 * rng.gen::<u32>() as i128;
            assert_eq!(div_pow2_round_half_even(x, k), reference(x, k), "{x} / 2^{k}");
        }
        // every x in a window around each tie, for small k
        for k in 1..=6u32 {
            for x in -300i128..=300 {
                assert_eq!(div_pow2_round_half_even(x, k), reference(x, k));
            }
        }
    }

    #[test]
    fn fixed_point_error_is_below_2_pow_minus_20() {
        let mut m = 2f64.powi(-31);
        while m < 2f64.powi(30) {
            for f in [1.0, 1.1, 1.37, 1.5, 1.999_999_9] {
                let x = m * f;
                let fp = FixedPoint::from_real(x).unwrap();
                assert!(fp.a >= 1 && fp.a < 1 << 31 && fp.k <= MAX_SHIFT);
                assert!(fp.relative_error(x) < 2f64.powi(-20), "{x}: {fp:?}");
            }
            m *= 2.0;
        }
        assert_eq!(FixedPoint::from_real(0.5).unwrap(), FixedPoint { a: 1 << 30, k: 31 });
        assert_eq!(FixedPoint::from_real(1.0).unwrap(), FixedPoint { a: 1 << 30, k: 30 });
    }

    #[test]
    fn unusable_factors_are_refused() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(FixedPoint::from_real(bad), Err(QuantError::NotPositive(_))));
        }
        assert!(matches!(FixedPoint::from_real(2f64.powi(31)), Err(QuantError::TooLarge(_))));
        assert!(matches!(FixedPoint::from_real(2f64.powi(-70)), Err(QuantError::TooSmall(_))));
    }

    #[test]
    fn requantization_matches_exact_rational_rounding_and_clamps() {
        let mut rng = ChaCha20Rng::seed_from_u64(61);
        for _ in 0..100_000 {
            let m = FixedPoint { a: rng.gen_range(1..1u32 << 31), k: rng.gen_range(0..=MAX_SHIFT) };
            let acc: i64 = if rng.gen() { rng.gen::<i32>() as i64 } else { rng.gen() };
            let z: i32 = rng.gen_range(-128..=127);
            let (lo, hi) = if rng.gen() { (-128, 127) } else { (z.max(-128), 127) };
            let exact = reference(acc as i128 * m.a as i128, m.k) + z as i128;
            assert_eq!(requantize(acc, m, z, lo, hi) as i128, exact.clamp(lo as i128, hi as i128));
        }
        // saturation at both ends, and the accumulator extremes
        let one = FixedPoint { a: 1 << 30, k: 30 };
        assert_eq!(requantize(i64::MAX, one, 0, -128, 127), 127);
        assert_eq!(requantize(i64::MIN, one, 0, -128, 127), -128);
        assert_eq!(requantize(-5, one, 3, 3, 127), 3); // ReLU fused: lo = z_out
        assert_eq!(requantize(i32::MIN as i64, FixedPoint { a: 1, k: 62 }, 0, -128, 127), 0);
    }
}
