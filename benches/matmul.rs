//! Square int8 matrix products at 512, 1024 and 2048: the GEMM, the proof work (GEMM excluded),
//! the verifier and Freivalds' check, side by side. `gkrnet matmul bench` prints the same figures
//! for any shape in one run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use gkrnet::matmul::{self, freivalds, gemm, Shape};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;

const SIZES: [usize; 3] = [512, 1024, 2048];

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let mut cases = Vec::new();
    for size in SIZES {
        let a: Vec<i8> = (0..size * size).map(|_| rng.gen()).collect();
        let b: Vec<i8> = (0..size * size).map(|_| rng.gen()).collect();
        let product = gemm::gemm_i8(&a, &b, size, size, size).expect("gemm");
        cases.push((size, a, b, product));
    }
    for (op, name) in [(0, "gemm"), (1, "prove"), (2, "verify"), (3, "freivalds")] {
        let mut g = c.benchmark_group(format!("matmul/{name}"));
        g.sample_size(10);
        for (size, a, b, product) in &cases {
            let shape = Shape { m: *size, n: *size, k: *size };
            let proof = matmul::prove_bytes(&shape, a, b, product).expect("prove");
            g.bench_function(BenchmarkId::from_parameter(size), |bench| match op {
                0 => bench
                    .iter(|| black_box(gemm::gemm_i8(a, b, *size, *size, *size).expect("gemm"))),
                1 => bench
                    .iter(|| black_box(matmul::prove_bytes(&shape, a, b, product).expect("prove"))),
                2 => bench
                    .iter(|| matmul::verify_bytes(&shape, a, b, product, &proof).expect("verify")),
                _ => bench.iter(|| {
                    assert!(freivalds::check(a, b, product, *size, *size, *size, &mut rng));
                }),
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
