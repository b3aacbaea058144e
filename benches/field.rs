//! Field arithmetic over 2^20 elements: gkrnet's Fp against ark-bn254's Fr (ark-ff's plain
//! Montgomery backend, 4 limbs), and delayed-reduction vs naive dot products with int8/int32
//! weights. Single-threaded except where the name says `par`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use ark_ff::UniformRand;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gkrnet::field::{dot_i32, dot_i32_naive, dot_i8, dot_i8_naive, Fp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use std::hint::black_box;

const LEN: usize = 1 << 20;

fn random<F: UniformRand>(rng: &mut ChaCha20Rng) -> Vec<F> {
    (0..LEN).map(|_| F::rand(rng)).collect()
}

/// Elementwise c = a ⊙ b, c = a + b, and a parallel product pass, for one field type.
fn arith<F>(c: &mut Criterion, name: &str, rng: &mut ChaCha20Rng)
where
    F: UniformRand
        + Copy
        + Send
        + Sync
        + std::ops::Mul<Output = F>
        + std::ops::Add<Output = F>
        + Default,
{
    let a: Vec<F> = random(rng);
    let b: Vec<F> = random(rng);
    let mut out = vec![F::default(); LEN];
    let mut g = c.benchmark_group("field");
    g.throughput(Throughput::Elements(LEN as u64));
    g.bench_function(BenchmarkId::new("mul", name), |bench| {
        bench.iter(|| {
            for ((o, x), y) in out.iter_mut().zip(&a).zip(&b) {
                *o = *x * *y;
            }
            black_box(&out);
        })
    });
    g.bench_function(BenchmarkId::new("add", name), |bench| {
        bench.iter(|| {
            for ((o, x), y) in out.iter_mut().zip(&a).zip(&b) {
                *o = *x + *y;
            }
            black_box(&out);
        })
    });
    g.bench_function(BenchmarkId::new("mul_par", name), |bench| {
        bench.iter(|| {
            out.par_iter_mut().zip(&a).zip(&b).for_each(|((o, x), y)| *o = *x * *y);
            black_box(&out);
        })
    });
    g.finish();
}

fn field_arith(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    arith::<Fp>(c, "gkrnet-p127", &mut rng);
    arith::<ark_bn254::Fr>(c, "bn254-fr", &mut rng);
}

fn dots(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let f: Vec<Fp> = random(&mut rng);
    let w8: Vec<i8> = (0..LEN).map(|_| rng.gen()).collect();
    let w32: Vec<i32> = (0..LEN).map(|_| rng.gen()).collect();
    let mut g = c.benchmark_group("field/dot");
    g.throughput(Throughput::Elements(LEN as u64));
    g.bench_function("i8_delayed", |b| b.iter(|| black_box(dot_i8(&f, &w8))));
    g.bench_function("i8_naive", |b| b.iter(|| black_box(dot_i8_naive(&f, &w8))));
    g.bench_function("i32_delayed", |b| b.iter(|| black_box(dot_i32(&f, &w32))));
    g.bench_function("i32_naive", |b| b.iter(|| black_box(dot_i32_naive(&f, &w32))));
    // the same delayed dot restricted to one thread, to separate the kernel from the threading
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    g.bench_function("i8_delayed_1thread", |b| {
        b.iter(|| pool.install(|| black_box(dot_i8(&f, &w8))))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = field_arith, dots
}
criterion_main!(benches);
