//! Multilinear extensions at 2^16 … 2^22 entries: evaluation (field and int8 data), binding the
//! first variable, and the eq table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use ark_ff::UniformRand;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use gkrnet::field::Fp;
use gkrnet::poly::{eq_evals, evaluate_i8, DenseMle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;

const NUM_VARS: [usize; 4] = [16, 18, 20, 22];

fn mle(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    for (name, op) in [("evaluate", 0), ("evaluate_i8", 1), ("fix_first_var", 2), ("eq_table", 3)] {
        let mut g = c.benchmark_group(format!("mle/{name}"));
        g.sample_size(10);
        for num_vars in NUM_VARS {
            g.throughput(Throughput::Elements(1 << num_vars));
            let point: Vec<Fp> = (0..num_vars).map(|_| Fp::rand(&mut rng)).collect();
            let evals: Vec<Fp> = (0..1usize << num_vars).map(|_| Fp::rand(&mut rng)).collect();
            let ints: Vec<i8> = (0..1usize << num_vars).map(|_| rng.gen()).collect();
            let f = DenseMle::new(evals);
            g.bench_function(BenchmarkId::from_parameter(num_vars), |b| match op {
                0 => b.iter(|| black_box(f.evaluate(&point))),
                1 => b.iter(|| black_box(evaluate_i8(&ints, &point))),
                2 => b.iter_batched(
                    || f.clone(),
                    |mut f| f.fix_first_var(point[0]),
                    BatchSize::LargeInput,
                ),
                _ => b.iter(|| black_box(eq_evals(&point))),
            });
        }
        g.finish();
    }
}

/// Where rayon starts to pay off: the fold f[i] + r·(f[i+h] − f[i]) over n entries, on one thread
/// and split in two rayon tasks. `poly::PAR_THRESHOLD` is set from this crossover.
fn par_crossover(c: &mut Criterion) {
    use rayon::prelude::*;
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let r = Fp::rand(&mut rng);
    let mut g = c.benchmark_group("mle/par_crossover");
    for num_vars in [8usize, 10, 11, 12, 13, 14, 16] {
        let f: Vec<Fp> = (0..1usize << num_vars).map(|_| Fp::rand(&mut rng)).collect();
        let half = f.len() / 2;
        let mut out = vec![Fp::default(); half];
        g.bench_function(BenchmarkId::new("sequential", num_vars), |b| {
            b.iter(|| {
                for ((o, l), h) in out.iter_mut().zip(&f[..half]).zip(&f[half..]) {
                    *o = *l + r * (*h - *l);
                }
                black_box(&out);
            })
        });
        g.bench_function(BenchmarkId::new("rayon", num_vars), |b| {
            b.iter(|| {
                out.par_iter_mut()
                    .zip(&f[..half])
                    .zip(&f[half..])
                    .for_each(|((o, l), h)| *o = *l + r * (*h - *l));
                black_box(&out);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, mle, par_crossover);
criterion_main!(benches);
