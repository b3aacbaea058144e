//! The primitives a hash-based PCS is built from, on this machine (Reed–Solomon encoding: one FFT
//! over the 127-bit field; Merkle trees over blake3), and the Basefold PCS itself at 2^20, 2^21
//! and 2^22 with both parameter sets (commit, open, verify; the proof's size is printed): the
//! sizes `tests/pcs.rs` checks for correctness only.
//! `cargo bench --bench pcs -- basefold` runs the latter only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use gkrnet::field::{from_i64, Fp};
use gkrnet::pcs::{MerkleTree, ReedSolomon};
use std::time::Duration;

fn data(n: usize) -> Vec<Fp> {
    (0..n as i64).map(|i| from_i64((i * 2_654_435_761) % 251 - 125)).collect()
}

fn encode(c: &mut Criterion) {
    let mut g = c.benchmark_group("rs_encode");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    // one message of 2^m symbols at rate 1/2 (an FFT of 2^(m+1)) and at rate 1/4
    for (m, b) in [(18, 1), (20, 1), (22, 1), (20, 2), (22, 2)] {
        let code = ReedSolomon::new(1 << m, b).unwrap();
        let msg = data(1 << m);
        g.bench_with_input(
            BenchmarkId::new(format!("rate_1_{}", 1 << b), 1u64 << m),
            &msg,
            |bench, msg| bench.iter(|| code.encode(msg)),
        );
    }
    // 2^22 symbols as 2^11 rows of 2^11 (the Ligero/Brakedown layout), rate 1/4, parallel rows
    let code = ReedSolomon::new(1 << 11, 2).unwrap();
    let rows = data(1 << 22);
    g.bench_function("rows_2^11x2^11_rate_1_4", |bench| bench.iter(|| code.encode_rows(&rows)));
    g.finish();
}

fn merkle(c: &mut Criterion) {
    let mut g = c.benchmark_group("merkle");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (leaves, width) in [(1usize << 20, 1usize), (1 << 23, 1), (1 << 22, 2)] {
        let d = data(leaves * width);
        g.bench_function(format!("{leaves}_leaves_of_{width}"), |bench| {
            bench.iter(|| MerkleTree::from_rows(&d, width).unwrap().root())
        });
    }
    g.finish();
}

/// Grinding at the parameter sets' 16 bits: the least nonce for each of 64 seeds (the work per
/// seed is geometric with mean 2^16 hashes, so the mean over seeds is the figure to read).
fn grinding(c: &mut Criterion) {
    use gkrnet::pcs::basefold::{grind, Params};
    let mut g = c.benchmark_group("grinding");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let seeds: Vec<[u8; 16]> =
        (0u128..64).map(|i| (i * 0x9e37_79b9_7f4a_7c15).to_le_bytes()).collect();
    g.bench_function("16_bits_64_seeds", |bench| {
        bench.iter(|| seeds.iter().map(|s| grind(s, Params::PROVABLE.pow_bits)).sum::<u64>())
    });
    g.finish();
}

criterion_group!(benches, encode, merkle, grinding);

fn basefold_bench(c: &mut Criterion) {
    use gkrnet::pcs::basefold::{self, Params};
    use gkrnet::transcript::{FiatShamirProver, FiatShamirVerifier};
    let mut g = c.benchmark_group("basefold");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for n in [20, 21, 22] {
        let t = data(1 << n);
        let z: Vec<Fp> = (0..n as i64).map(|i| from_i64(i * 31 + 7)).collect();
        for (name, params) in [("provable", Params::PROVABLE), ("conjectured", Params::CONJECTURED)]
        {
            // the caller hands its table over (the commitment keeps it for the openings)
            g.bench_function(format!("commit_2^{n}_{name}"), |b| {
                b.iter_batched(
                    || t.clone(),
                    |t| basefold::commit(t, params).unwrap(),
                    BatchSize::LargeInput,
                )
            });
            let c = basefold::commit(t.as_slice(), params).unwrap();
            let prove = || {
                let mut tr = FiatShamirProver::new("bench");
                basefold::open(&[&c], &z, &mut tr).unwrap();
                tr.into_proof().encode()
            };
            g.bench_function(format!("open_2^{n}_{name}"), |b| b.iter(prove));
            let proof = prove();
            let y = c.evaluate(&z);
            g.bench_function(format!("verify_2^{n}_{name}"), |b| {
                b.iter(|| {
                    let mut tr = FiatShamirVerifier::new("bench", &proof).unwrap();
                    basefold::verify(&[c.commitment], &z, &[y], params, &mut tr).unwrap();
                })
            });
            println!("basefold 2^{n} {name}: proof {} bytes", proof.len());
        }
    }
    g.finish();
}

criterion_group!(basefold_benches, basefold_bench);
criterion_main!(benches, basefold_benches);
