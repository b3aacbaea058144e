//! Sumcheck prove/verify for products of 2 and 3 MLEs at 2^16 … 2^22, side by side with arkworks'
//! `ark-linear-sumcheck` 0.4 (`MLSumcheck`, `parallel` feature) on the same product, the same sizes
//! and the same modulus p = 2^127 − 2^65 + 1 defined in its ark-ff 0.4. Also the baseline of the
//! issue's ratio target: one 2-thread pass of 2^n field multiplications.
//!
//! Run with `cargo bench --bench sumcheck` (rayon uses every core: 2 on our machines).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use ark_ff::UniformRand;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use gkrnet::field::Fp;
use gkrnet::sumcheck::{self, prover::ProductSum};
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use std::hint::black_box;
use std::rc::Rc;

const NUM_VARS: [usize; 4] = [16, 18, 20, 22];

/// The same modulus in ark-ff 0.4, for ark-linear-sumcheck.
#[allow(non_local_definitions)]
mod ark04 {
    use ark_ff::fields::{Fp128, MontBackend, MontConfig};
    use ark_ff_04 as ark_ff;

    #[derive(MontConfig)]
    #[modulus = "170141183460469231694793815568465002497"]
    #[generator = "5"]
    pub struct Params;
    pub type F = Fp128<MontBackend<Params, 2>>;
}

fn tables(rng: &mut ChaCha20Rng, count: usize, num_vars: usize) -> Vec<Vec<Fp>> {
    (0..count).map(|_| (0..1usize << num_vars).map(|_| Fp::rand(rng)).collect()).collect()
}

fn gkrnet_prove(poly: ProductSum, claimed_sum: Fp) -> Vec<u8> {
    let mut t = FiatShamirProver::new(labels::PROTOCOL);
    let out = sumcheck::prove(poly, claimed_sum, &mut t).expect("honest");
    sumcheck::send_final_evals(&mut t, &out.final_evals);
    t.into_proof().encode()
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    for factors in [2usize, 3] {
        let mut prove = c.benchmark_group(format!("sumcheck/prove/product{factors}"));
        prove.sample_size(10);
        let mut cases = Vec::new();
        for num_vars in NUM_VARS {
            let t = tables(&mut rng, factors, num_vars);
            let poly = ProductSum::product(t.clone()).expect("valid");
            let claimed_sum = poly.sum();
            prove.bench_function(BenchmarkId::new("gkrnet", num_vars), |b| {
                b.iter_batched(
                    || poly.clone(),
                    |p| black_box(gkrnet_prove(p, claimed_sum)),
                    BatchSize::LargeInput,
                )
            });

            // the same tables as ark-ff 0.4 field elements (canonical integers carried over)
            let mles: Vec<Rc<ark_poly_04::DenseMultilinearExtension<ark04::F>>> = t
                .iter()
                .map(|table| {
                    let evals =
                        table.iter().map(|x| ark04::F::from(gkrnet::field::to_u128(x))).collect();
                    Rc::new(ark_poly_04::DenseMultilinearExtension::from_evaluations_vec(
                        num_vars, evals,
                    ))
                })
                .collect();
            let mut list =
                ark_linear_sumcheck::ml_sumcheck::data_structures::ListOfProductsOfPolynomials::new(
                    num_vars,
                );
            list.add_product(mles, ark_ff_04::One::one());
            prove.bench_function(BenchmarkId::new("ark-linear-sumcheck", num_vars), |b| {
                b.iter(|| {
                    black_box(
                        ark_linear_sumcheck::ml_sumcheck::MLSumcheck::prove(&list).expect("prove"),
                    )
                })
            });
            cases.push((num_vars, poly, claimed_sum, list));
        }
        prove.finish();

        let mut verify = c.benchmark_group(format!("sumcheck/verify/product{factors}"));
        for (num_vars, poly, claimed_sum, list) in &cases {
            let claim = poly.claim(*claimed_sum);
            let proof = gkrnet_prove(poly.clone(), *claimed_sum);
            let terms = poly.terms().to_vec();
            verify.bench_function(BenchmarkId::new("gkrnet", num_vars), |b| {
                b.iter(|| {
                    let mut t = FiatShamirVerifier::new(labels::PROTOCOL, &proof).expect("header");
                    let eval = sumcheck::verify(&claim, &mut t).expect("accept");
                    black_box(
                        sumcheck::verify_final_evals(&terms, factors, &eval, &mut t)
                            .expect("accept"),
                    )
                })
            });
            let ark_proof =
                ark_linear_sumcheck::ml_sumcheck::MLSumcheck::prove(list).expect("prove");
            let info = list.info();
            let ark_sum = ark_linear_sumcheck::ml_sumcheck::MLSumcheck::extract_sum(&ark_proof);
            verify.bench_function(BenchmarkId::new("ark-linear-sumcheck", num_vars), |b| {
                b.iter(|| {
                    black_box(
                        ark_linear_sumcheck::ml_sumcheck::MLSumcheck::verify(
                            &info, ark_sum, &ark_proof,
                        )
                        .expect("accept"),
                    )
                })
            });
        }
        verify.finish();
    }

    // the baseline: one parallel pass of 2^n multiplications c[i] = a[i]·b[i]
    let mut base = c.benchmark_group("sumcheck/baseline_mul_pass");
    for num_vars in NUM_VARS {
        let t = tables(&mut rng, 2, num_vars);
        let mut out = vec![Fp::default(); 1 << num_vars];
        base.bench_function(BenchmarkId::from_parameter(num_vars), |b| {
            b.iter(|| {
                out.par_iter_mut().zip(&t[0]).zip(&t[1]).for_each(|((o, x), y)| *o = *x * *y);
                black_box(&out);
            })
        });
    }
    base.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
