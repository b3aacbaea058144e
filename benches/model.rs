//! Whole-model proofs of the built-in models: `mlp4m` (dense 1024→2048→1024→10, ReLU, ~4.2M
//! parameters), `mlp-act` (every activation table and elementwise adds), `lenet5` and
//! `cnn-cifar` (`circuit::zoo` documents their shapes). Before the criterion groups, one run of
//! each prints the prover's per-phase breakdown and the proof size.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use criterion::{criterion_group, criterion_main, Criterion};
use gkrnet::circuit::zoo;
use gkrnet::gkr;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    for model in [zoo::mlp4m(), zoo::mlp_act(), zoo::lenet5(), zoo::cnn_cifar()] {
        let input = zoo::random_input(&model, 1);
        let log = gkr::PhaseLog::default();
        let hook = |name: &str, d| log.record(name, d);
        let opts = gkr::ProveOptions::default().with_phase_hook(&hook);
        let proof = gkr::prove_bytes(&model, &input, &opts).expect("prove");
        println!("{}: proof {} bytes; prover phases:", model.name, proof.proof.len());
        for (phase, time) in &log.take() {
            println!("  {phase:<24} {:>9.3} ms", time.as_secs_f64() * 1e3);
        }
        let mut g = c.benchmark_group(format!("model/{}", model.name));
        g.sample_size(20);
        g.bench_function("forward", |b| {
            b.iter(|| black_box(model.forward(&input).expect("forward")))
        });
        g.bench_function("prove", |b| {
            b.iter(|| {
                black_box(
                    gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).expect("prove"),
                )
            })
        });
        g.bench_function("verify", |b| {
            b.iter(|| {
                gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &proof.proof)
                    .expect("verify")
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
