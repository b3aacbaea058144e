//! ark-ff parameters of p = 2^127 − 2^65 + 1, with branch-free addition, subtraction, negation and
//! a two-limb Montgomery multiplication specialised to this modulus.
//!
//! ark-ff's generic backend reduces after an addition or subtraction with a data-dependent branch
//! (`if a ≥ p { a −= p }`); on random field elements that branch is mispredicted half the time,
//! and our sumcheck rounds are mostly additions. Measured here (one thread, operands in L1):
//! addition 1.9 ns → see `paper-notes/field.md`. Because p < 2^127, the sum of two reduced
//! elements fits a u128 without overflow, so every operation below is plain u128 arithmetic with
//! the reduction applied through a mask. Everything else (inversion, square roots, conversions,
//! serialization) is ark-ff's own, through [`MontConfig`]'s default methods.

use ark_ff::fields::{Fp, MontBackend, MontConfig};
use ark_ff::{BigInt, MontFp};

/// p as an integer.
pub(super) const P: u128 = (1u128 << 127) - (1u128 << 65) + 1;
const P0: u64 = P as u64;
const P1: u64 = (P >> 64) as u64;
/// −p⁻¹ mod 2^64 (p ≡ 1 mod 2^64, so p⁻¹ ≡ 1 and this is 2^64 − 1).
const INV: u64 = u64::MAX;

/// The configuration of gkrnet's field for ark-ff.
#[derive(Debug)]
pub struct FpParams;

type F = Fp<MontBackend<FpParams, 2>, 2>;

#[inline(always)]
fn get(a: &F) -> u128 {
    (a.0 .0[0] as u128) | ((a.0 .0[1] as u128) << 64)
}

#[inline(always)]
fn set(a: &mut F, v: u128) {
    a.0 .0 = [v as u64, (v >> 64) as u64];
}

/// All ones if `flag`, else zero.
#[inline(always)]
fn mask(flag: bool) -> u128 {
    (flag as u128).wrapping_neg()
}

/// Reduces v < 2p to [0, p) without a branch.
#[inline(always)]
fn reduce_once(v: u128) -> u128 {
    let (r, borrow) = v.overflowing_sub(P);
    r.wrapping_add(P & mask(borrow))
}

impl MontConfig<2> for FpParams {
    const MODULUS: BigInt<2> = BigInt([P0, P1]);
    const GENERATOR: F = MontFp!("5");
    /// 5^((p − 1) / 2^65), a primitive 2^65-th root of unity.
    const TWO_ADIC_ROOT_OF_UNITY: F = MontFp!("66699331860289975426884946156689156463");

    #[inline(always)]
    fn add_assign(a: &mut F, b: &F) {
        // a, b < p < 2^127: the sum cannot overflow a u128
        set(a, reduce_once(get(a) + get(b)));
    }

    #[inline(always)]
    fn sub_assign(a: &mut F, b: &F) {
        let (d, borrow) = get(a).overflowing_sub(get(b));
        set(a, d.wrapping_add(P & mask(borrow)));
    }

    #[inline(always)]
    fn double_in_place(a: &mut F) {
        set(a, reduce_once(get(a) << 1));
    }

    #[inline(always)]
    fn neg_in_place(a: &mut F) {
        let v = get(a);
        set(a, (P - v) & mask(v != 0));
    }

    /// Montgomery multiplication (CIOS, two limbs, R = 2^128). p's top bit is clear, so the
    /// intermediate stays below 2p and one masked subtraction finishes it.
    #[inline(always)]
    fn mul_assign(a: &mut F, b: &F) {
        set(a, mont_mul(get(a), get(b)));
    }

    #[inline(always)]
    fn square_in_place(a: &mut F) {
        let v = get(a);
        set(a, mont_mul(v, v));
    }
}

/// a·b·2^-128 mod p for a, b < p. Each `x·y + z + w` below is at most (2^64 − 1)^2 + 2(2^64 − 1) =
/// 2^128 − 1, so no u128 step can overflow.
#[inline(always)]
fn mont_mul(a: u128, b: u128) -> u128 {
    #[inline(always)]
    fn mac(x: u64, y: u64, z: u64, w: u64) -> (u64, u64) {
        let t = (x as u128) * (y as u128) + (z as u128) + (w as u128);
        (t as u64, (t >> 64) as u64)
    }
    let (a0, a1, b0, b1) = (a as u64, (a >> 64) as u64, b as u64, (b >> 64) as u64);
    // i = 0
    let (r0, c) = mac(a0, b0, 0, 0);
    let (r1, r2) = mac(a1, b0, c, 0);
    let k = r0.wrapping_mul(INV);
    let (_, c) = mac(k, P0, r0, 0);
    let (r0, c) = mac(k, P1, r1, c);
    let (r1, r2) = mac(1, r2, c, 0); // r2 + c
    debug_assert!(r2 == 0);
    // i = 1
    let (r0, c) = mac(a0, b1, r0, 0);
    let (r1, r2) = mac(a1, b1, r1, c);
    let k = r0.wrapping_mul(INV);
    let (_, c) = mac(k, P0, r0, 0);
    let (r0, c) = mac(k, P1, r1, c);
    let r1 = r2.wrapping_add(c);
    reduce_once((r0 as u128) | ((r1 as u128) << 64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{AdditiveGroup, Field, UniformRand};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// ark-ff's own generic backend on the same modulus: the oracle.
    #[derive(ark_ff::fields::MontConfig)]
    #[modulus = "170141183460469231694793815568465002497"]
    #[generator = "5"]
    struct RefParams;
    type R = Fp<MontBackend<RefParams, 2>, 2>;

    fn to_ref(x: &F) -> R {
        R::new_unchecked(x.0)
    }

    /// Random elements plus the edge cases 0, 1, p − 1, p − 2, 2^64 ± 1 and 2^126.
    fn samples(rng: &mut ChaCha20Rng) -> Vec<F> {
        let mut v: Vec<F> =
            [0u128, 1, P - 1, P - 2, (1 << 64) - 1, 1 << 64, (1 << 64) + 1, 1 << 126]
                .iter()
                .map(|&x| F::new_unchecked(BigInt([x as u64, (x >> 64) as u64])))
                .collect();
        v.extend((0..200).map(|_| F::rand(rng)));
        v
    }

    #[test]
    fn every_operation_matches_ark_ffs_generic_backend() {
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        let s = samples(&mut rng);
        for a in &s {
            assert_eq!(to_ref(&-*a), -to_ref(a));
            assert_eq!(to_ref(&a.double()), to_ref(a).double());
            assert_eq!(to_ref(&a.square()), to_ref(a).square());
            for b in &s {
                assert_eq!(to_ref(&(*a + b)), to_ref(a) + to_ref(b));
                assert_eq!(to_ref(&(*a - b)), to_ref(a) - to_ref(b));
                assert_eq!(to_ref(&(*a * b)), to_ref(a) * to_ref(b));
            }
        }
        for _ in 0..100_000 {
            let (a, b) = (F::rand(&mut rng), F::rand(&mut rng));
            assert_eq!(to_ref(&(a * b)), to_ref(&a) * to_ref(&b));
        }
        assert_eq!(F::from(3u64).inverse().unwrap() * F::from(3u64), F::from(1u64));
        let x: u128 = rng.gen::<u128>() % P;
        assert_eq!(super::super::to_u128(&F::from(x)), x);
    }
}
