//! Committed advice and model commitments (issue 10), on the built-in models:
//! * `lenet5`: prove and verify with the advice in the clear, and committed under the provable
//!   and the conjectured parameters (proof sizes printed first);
//! * `mlp4m`: its two 2^21-weight matrices committed once (one 2^22 table); the time to commit
//!   and one committed proof are printed, then criterion times the verifier, which holds the
//!   stripped model and the root only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use criterion::{criterion_group, criterion_main, Criterion};
use gkrnet::circuit::zoo;
use gkrnet::gkr::{self, AdviceMode, ModelCommitment};
use gkrnet::pcs::basefold::Params;
use std::hint::black_box;
use std::time::Instant;

fn advice(c: &mut Criterion) {
    let model = zoo::lenet5();
    let input = zoo::random_input(&model, 1);
    let mut g = c.benchmark_group("commitment/lenet5");
    g.sample_size(10);
    for mode in [AdviceMode::Clear, AdviceMode::PROVABLE, AdviceMode::CONJECTURED] {
        let log = gkr::PhaseLog::default();
        let hook = |name: &str, d| log.record(name, d);
        let opts = gkr::ProveOptions::advice(mode).with_phase_hook(&hook);
        let proof = gkr::prove_bytes(&model, &input, &opts).expect("prove");
        println!("lenet5, advice {}: proof {} bytes; phases:", mode.name(), proof.proof.len());
        for (phase, t) in &log.take() {
            println!("  {phase:<24} {:>9.3} ms", t.as_secs_f64() * 1e3);
        }
        g.bench_function(format!("prove/{}", mode.name()), |b| {
            b.iter(|| {
                black_box(
                    gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(mode))
                        .expect("prove"),
                )
            })
        });
        g.bench_function(format!("verify/{}", mode.name()), |b| {
            b.iter(|| {
                gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::advice(mode), &proof.proof)
                    .expect("verify")
            })
        });
    }
    g.finish();
}

fn weights(c: &mut Criterion) {
    let model = zoo::mlp4m();
    let input = zoo::random_input(&model, 1);
    let stripped = ModelCommitment::stripped(&model).expect("stripped");
    let mut g = c.benchmark_group("commitment/mlp4m");
    g.sample_size(20);
    for params in [Params::PROVABLE, Params::CONJECTURED] {
        let name = AdviceMode::Committed(params).name();
        let start = Instant::now();
        let (prover, wp) = gkr::commit_model(&model, params).expect("commit");
        let log = gkr::PhaseLog::default();
        let hook = |name: &str, d| log.record(name, d);
        println!("mlp4m, weights {name}: commit {:.0} ms", start.elapsed().as_secs_f64() * 1e3);
        let start = Instant::now();
        let proof = gkr::prove_bytes(
            &prover,
            &input,
            &gkr::ProveOptions::advice(AdviceMode::Clear).with_weights(&wp).with_phase_hook(&hook),
        )
        .expect("prove");
        println!(
            "  prove {:.0} ms, proof {} bytes; phases:",
            start.elapsed().as_secs_f64() * 1e3,
            proof.proof.len()
        );
        for (phase, t) in &log.take() {
            println!("  {phase:<24} {:>9.3} ms", t.as_secs_f64() * 1e3);
        }
        let cm = wp.commitment();
        g.bench_function(format!("verify from the commitment/{name}"), |b| {
            b.iter(|| {
                gkr::verify_bytes(
                    gkr::KeyRef { model: &stripped, commitment: Some(&cm) },
                    &input,
                    &gkr::VerifyOptions::advice(AdviceMode::Clear),
                    &proof.proof,
                )
                .expect("verify")
            })
        });
    }
    let proof = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).expect("prove");
    g.bench_function("verify with the weights (clear)", |b| {
        b.iter(|| {
            gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &proof.proof)
                .expect("verify")
        })
    });
    g.finish();
}

criterion_group!(benches, advice, weights);
criterion_main!(benches);
