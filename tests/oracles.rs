//! Property tests against naive oracles, random sizes from 0 to 20 variables.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::{One, Zero};
use common::*;
use gkrnet::field::{dot_i32, dot_i32_naive, dot_i8, dot_i8_naive, from_i32, from_i8, Fp};
use gkrnet::poly::{eq_evals, evaluate_i32, evaluate_i8, evaluate_padded, DenseMle};
use proptest::prelude::*;
use rand::Rng;

/// Σ_b v[b] Πᵢ (bᵢrᵢ + (1 − bᵢ)(1 − rᵢ)), entry by entry: O(n·2^n).
fn naive_mle(values: &[Fp], point: &[Fp]) -> Fp {
    values
        .iter()
        .enumerate()
        .map(|(b, v)| {
            point
                .iter()
                .enumerate()
                .fold(*v, |acc, (i, r)| acc * if (b >> i) & 1 == 1 { *r } else { Fp::one() - r })
        })
        .sum()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn mle_evaluations_match_the_naive_sum(num_vars in 0usize..=20, fill in 0.0f64..=1.0, seed in any::<u64>()) {
        let mut rng = rng(seed);
        let len = ((1usize << num_vars) as f64 * fill) as usize;
        let point = random_vec(&mut rng, num_vars);
        let v8: Vec<i8> = (0..len).map(|_| rng.gen()).collect();
        let v32: Vec<i32> = (0..len).map(|_| rng.gen()).collect();
        let f8: Vec<Fp> = v8.iter().map(|&x| from_i8(x)).collect();
        let f32: Vec<Fp> = v32.iter().map(|&x| from_i32(x)).collect();
        let expected8 = naive_mle(&f8, &point);
        prop_assert_eq!(evaluate_i8(&v8, &point), expected8);
        prop_assert_eq!(evaluate_padded(&f8, &point), expected8);
        prop_assert_eq!(evaluate_i32(&v32, &point), naive_mle(&f32, &point));
        if num_vars <= 16 {
            let mut mle = DenseMle::from_padded(f32.clone(), num_vars);
            for r in &point {
                mle.fix_first_var(*r);
            }
            prop_assert_eq!(mle.evals()[0], naive_mle(&f32, &point));
        }
        // the eq table sums to one and reproduces the MLE by a dot product
        let eq = eq_evals(&point);
        prop_assert_eq!(eq.iter().sum::<Fp>(), Fp::one());
        prop_assert_eq!(dot_i8(&eq[..len], &v8), expected8);
    }

    #[test]
    fn delayed_dot_products_match_naive_ones(len in 0usize..=(1 << 20), seed in any::<u64>()) {
        let mut rng = rng(seed);
        let f = random_vec(&mut rng, len);
        let w8: Vec<i8> = (0..len).map(|_| rng.gen()).collect();
        let w32: Vec<i32> = (0..len).map(|_| rng.gen()).collect();
        prop_assert_eq!(dot_i8(&f, &w8), dot_i8_naive(&f, &w8));
        prop_assert_eq!(dot_i32(&f, &w32), dot_i32_naive(&f, &w32));
    }

    #[test]
    fn sumcheck_claims_match_brute_force_sums(num_vars in 0usize..=20, shape in 0usize..5, seed in any::<u64>()) {
        let mut rng = rng(seed);
        let (num_tables, terms) = shapes(&mut rng).swap_remove(shape);
        let poly = random_instance(&mut rng, num_vars, num_tables, terms.clone());
        // brute force, entry by entry
        let mut brute = Fp::zero();
        for x in 0..1usize << num_vars {
            for term in &terms {
                brute += term.factors.iter().fold(term.coeff, |p, &j| p * poly.tables()[j][x]);
            }
        }
        prop_assert_eq!(poly.sum(), brute);
        let (claim, proof) = honest_proof(&poly, PROTOCOL);
        prop_assert_eq!(claim.claimed_sum, brute);
        let claims = verify_all(&claim, &terms, poly.tables(), &proof, PROTOCOL).unwrap();
        if num_vars <= 12 {
            for (c, t) in claims.iter().zip(poly.tables()) {
                prop_assert_eq!(c.value, naive_mle(t, &c.point));
            }
        }
    }
}
