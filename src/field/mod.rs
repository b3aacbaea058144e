//! The prime field of every proof: p = 2^127 − 2^65 + 1.
//!
//! p is prime, p − 1 = 2^65 · 3 · 715827883 · 2147483647, so the multiplicative group has a subgroup
//! of order 2^65 (FFTs and Reed–Solomon codes of any practical size) and 5 generates the whole group.
//! Elements live in ark-ff's two-limb Montgomery form; the modulus leaves the top bit of the second
//! limb free, so ark-ff uses its no-carry multiplication. Why this field and how fast it is on our
//! machines: `paper-notes/field.md`.
//!
//! Integers embed *centered*: a negative v maps to p − |v| (Plonky3's `QuotientMap` semantics), so
//! int8 / int32 / int64 arithmetic is exact in the field as long as no intermediate leaves
//! (−p/2, p/2).
//!
//! The canonical byte form of an element is its integer value in `[0, p)` as 16 little-endian bytes;
//! [`from_canonical_bytes`] rejects everything else.

mod backend;
mod dot;
mod wide;

pub use dot::{
    column_combination_i32, column_combination_i8, dot_i32, dot_i32_naive, dot_i8, dot_i8_naive,
    row_combination_i8,
};

pub use backend::FpParams;
pub use wide::WideAcc;

use ark_ff::fields::{Fp128, MontBackend};
use ark_ff::{BigInteger, PrimeField};

/// The field of every gkrnet proof. Protocol code names only this alias.
pub type Fp = Fp128<MontBackend<FpParams, 2>>;

/// Bytes of one canonical field element.
pub const FIELD_BYTES: usize = 16;

/// The modulus as an integer.
pub const MODULUS: u128 = backend::P;

/// Bits of soundness one uniformly random challenge gives against a polynomial identity of degree 1:
/// log2(p) ≈ 127 − 2^-62.
pub const MODULUS_BITS: u32 = 127;

/// Centered embedding of an i8.
#[inline]
pub fn from_i8(v: i8) -> Fp {
    from_i64(v as i64)
}

/// Centered embedding of an i32.
#[inline]
pub fn from_i32(v: i32) -> Fp {
    from_i64(v as i64)
}

/// Centered embedding of an i64: v ≥ 0 maps to v, v < 0 to p − |v|.
#[inline]
pub fn from_i64(v: i64) -> Fp {
    if v >= 0 {
        Fp::from(v as u64)
    } else {
        -Fp::from(v.unsigned_abs())
    }
}

/// Centered embedding of an i128 (|v| < 2^127 always lies below p/2 + 2^65, so it is exact for
/// |v| < (p − 1)/2).
#[inline]
pub fn from_i128(v: i128) -> Fp {
    if v >= 0 {
        Fp::from(v as u128)
    } else {
        -Fp::from(v.unsigned_abs())
    }
}

/// The centered integer of `x` if it lies in [i64::MIN, i64::MAX], i.e. the inverse of [`from_i64`].
pub fn to_i64(x: &Fp) -> Option<i64> {
    let v = to_u128(x);
    if v <= i64::MAX as u128 {
        Some(v as i64)
    } else {
        let neg = MODULUS - v; // |x| for a negative embedding
        (neg <= 1u128 << 63).then(|| (neg as i128).wrapping_neg() as i64)
    }
}

/// The canonical integer value of `x` in `[0, p)`.
#[inline]
pub fn to_u128(x: &Fp) -> u128 {
    let limbs = x.into_bigint().0;
    (limbs[0] as u128) | ((limbs[1] as u128) << 64)
}

/// Canonical 16-byte little-endian encoding.
#[inline]
pub fn to_canonical_bytes(x: &Fp) -> [u8; FIELD_BYTES] {
    let bytes = x.into_bigint().to_bytes_le();
    let mut out = [0u8; FIELD_BYTES];
    out.iter_mut().zip(&bytes).for_each(|(o, b)| *o = *b);
    out
}

/// Decodes a canonical encoding; `None` for any value ≥ p.
#[inline]
pub fn from_canonical_bytes(bytes: &[u8; FIELD_BYTES]) -> Option<Fp> {
    let v = u128::from_le_bytes(*bytes);
    (v < MODULUS).then(|| Fp::from(v))
}

/// A field element built from 64 uniformly random bytes (a challenge): the 512-bit integer reduced
/// mod p, whose distance from uniform is below 2^-384.
#[inline]
pub fn from_uniform_bytes(bytes: &[u8; 64]) -> Fp {
    Fp::from_le_bytes_mod_order(bytes)
}

/// The element whose *Montgomery representation* is `x mod p` (not the element of value x).
/// Delayed-reduction sums accumulate Montgomery limbs times small integers; this turns such a sum
/// back into an element.
#[inline]
pub(crate) fn from_montgomery_u128(mut x: u128) -> Fp {
    // 2^128 − 1 < 3p, so at most two subtractions.
    if x >= MODULUS {
        x -= MODULUS;
    }
    if x >= MODULUS {
        x -= MODULUS;
    }
    Fp::new_unchecked(ark_ff::BigInt([x as u64, (x >> 64) as u64]))
}

/// The two 64-bit limbs of the Montgomery representation (both below 2^64, the second below 2^63).
#[inline(always)]
pub(crate) fn montgomery_limbs(x: &Fp) -> [u64; 2] {
    (x.0).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, One, Zero};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn modulus_matches_ark() {
        let m = <Fp as PrimeField>::MODULUS.0;
        assert_eq!((m[0] as u128) | ((m[1] as u128) << 64), MODULUS);
        assert_eq!(<Fp as PrimeField>::MODULUS_BIT_SIZE, MODULUS_BITS);
        assert_eq!(<Fp as ark_ff::FftField>::TWO_ADICITY, 65);
    }

    #[test]
    fn centered_embedding() {
        assert_eq!(from_i8(-1), -Fp::one());
        assert_eq!(to_u128(&from_i8(-1)), MODULUS - 1);
        assert_eq!(from_i8(i8::MIN) + Fp::from(128u64), Fp::zero());
        assert_eq!(from_i32(i32::MIN) + Fp::from(1u64 << 31), Fp::zero());
        assert_eq!(from_i64(i64::MIN) + Fp::from(1u64 << 63), Fp::zero());
        assert_eq!(from_i128(-5) * from_i128(7), from_i64(-35));
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        for _ in 0..1000 {
            let a: i64 = rng.gen();
            assert_eq!(to_i64(&from_i64(a)), Some(a));
            let (x, y): (i32, i32) = (rng.gen(), rng.gen());
            assert_eq!(from_i32(x) * from_i32(y), from_i64(x as i64 * y as i64));
        }
        assert_eq!(to_i64(&Fp::from(1u128 << 100)), None);
    }

    #[test]
    fn canonical_bytes_round_trip_and_reject_non_canonical() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        for _ in 0..1000 {
            let x = Fp::from(rng.gen::<u128>());
            assert_eq!(from_canonical_bytes(&to_canonical_bytes(&x)), Some(x));
        }
        assert_eq!(from_canonical_bytes(&MODULUS.to_le_bytes()), None);
        assert_eq!(from_canonical_bytes(&u128::MAX.to_le_bytes()), None);
        assert_eq!(from_canonical_bytes(&(MODULUS - 1).to_le_bytes()), Some(-Fp::one()));
        // ark-serialize agrees with the canonical form
        use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
        let x = from_i64(-3);
        let mut buf = Vec::new();
        x.serialize_compressed(&mut buf).unwrap();
        assert_eq!(buf, to_canonical_bytes(&x));
        assert!(Fp::deserialize_compressed(&MODULUS.to_le_bytes()[..]).is_err());
    }

    #[test]
    fn montgomery_round_trip() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for _ in 0..1000 {
            let x = Fp::from(rng.gen::<u128>());
            let l = montgomery_limbs(&x);
            let v = (l[0] as u128) | ((l[1] as u128) << 64);
            assert_eq!(from_montgomery_u128(v), x);
            assert_eq!(from_montgomery_u128(v + MODULUS), x);
        }
        assert!(from_montgomery_u128(u128::MAX).0 .0[1] < 1 << 63);
    }

    #[test]
    fn generator_has_full_order() {
        let g = <Fp as ark_ff::FftField>::GENERATOR;
        let p_minus_1 = MODULUS - 1;
        for q in [2u128, 3, 715_827_883, 2_147_483_647] {
            assert_ne!(
                g.pow([((p_minus_1 / q) as u64), ((p_minus_1 / q) >> 64) as u64]),
                Fp::one()
            );
        }
    }
}
