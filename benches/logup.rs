//! The LogUp prover's cost per leaf from 2^16 to 2^26 leaves (issue 21: ≤ 100 ns per leaf at
//! 2^24 on 2 threads, and the cost per leaf at 2^24 within 1.5× of that at 2^18).
//!
//! Each case looks up 2^n − 2^16 values of a 16-bit range check (the shape of a model's limb
//! checks: a large lookup into a small table; the tree then has exactly 2^n leaves) with the
//! multiplicities counted from the values, and times `lookup::prove` alone (multiplicities and
//! the values' digest are the caller's). Criterion reports the time per case; divide by 2^n for
//! the cost per leaf (`throughput` prints elements per second).
//!
//! Run with `cargo bench --bench logup`; `GKRNET_LOGUP_MAX=24` stops at 2^24 (2^26 needs about
//! 6 GiB and several minutes).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benches fail loudly on broken fixtures"
)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use gkrnet::field::Fp;
use gkrnet::lookup::{self, LookupStatement, Table};
use gkrnet::transcript::{labels, FiatShamirProver};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::hint::black_box;

const TABLE_BITS: u32 = 16;

fn bench(c: &mut Criterion) {
    let max: usize =
        std::env::var("GKRNET_LOGUP_MAX").ok().and_then(|s| s.parse().ok()).unwrap_or(26);
    let mut group = c.benchmark_group("logup/prove");
    group.sample_size(10);
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    for n in (16..=max).step_by(2) {
        let leaves = 1usize << n;
        let num_values = leaves - (1 << TABLE_BITS);
        let raw: Vec<u64> = (0..num_values).map(|_| rng.gen_range(0..1u64 << TABLE_BITS)).collect();
        let values: Vec<Fp> = raw.iter().map(|&v| Fp::from(v)).collect();
        let mut m = vec![0u64; 1 << TABLE_BITS];
        for &v in &raw {
            m[v as usize] += 1;
        }
        let stmt = LookupStatement { num_values, table: Table::Range { bits: TABLE_BITS } };
        assert_eq!(stmt.num_vars(), n);
        group.throughput(Throughput::Elements(leaves as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| {
                let mut t = FiatShamirProver::new(labels::PROTOCOL);
                black_box(lookup::prove(&stmt, &values, &m, &mut t).expect("honest"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
