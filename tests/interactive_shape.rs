//! The transcript traits carry an interactive protocol without touching protocol code: the same
//! `matmul::prove_product` / `verify_product` (and the sumcheck inside them) run over an in-memory
//! channel where the verifier draws every challenge from its own randomness, only when `verify`
//! asks for it, after the prover message it depends on has arrived. (The network channels of the
//! interactive issue replace the mpsc queues with a socket.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::channel::pair;
use common::oracles::naive_matmul;
use common::*;
use gkrnet::circuit::zoo;
use gkrnet::error::VerifyError;
use gkrnet::gkr;
use gkrnet::matmul::{self, Shape};

/// Runs the prover on its own thread against `verify` on this one.
fn session(
    a: Vec<i8>,
    b: Vec<i8>,
    c_prover: Vec<i32>,
    c_verifier: Vec<i32>,
    shape: Shape,
    seed: u64,
) -> Result<(), VerifyError> {
    let (mut p, mut v) = pair(seed);
    let (pa, pb) = (a.clone(), b.clone());
    let prover = std::thread::spawn(move || {
        // a cheating prover's own ClaimedSumMismatch is irrelevant here: the verifier decides
        let _ = matmul::prove_product(&shape, &pa, &pb, &c_prover, &mut p);
    });
    let verdict = matmul::verify_product(&shape, &a, &b, &c_verifier, &mut v);
    drop(v); // unblock a prover still waiting for a challenge
    prover.join().expect("prover thread");
    verdict
}

#[test]
fn matrix_products_verify_interactively_with_the_verifiers_own_coins() {
    for seed in 0..20u64 {
        let mut rng = rng(seed);
        let (m, n, k) = (3 + seed as usize % 7, 5 + seed as usize % 11, 1 + seed as usize % 4);
        let (a, b) = (random_i8(&mut rng, m * n), random_i8(&mut rng, n * k));
        let c = naive_matmul(&a, &b, m, n, k);
        session(a, b, c.clone(), c, Shape { m, n, k }, seed).unwrap();
    }
}

#[test]
fn a_wrong_product_is_rejected_interactively() {
    for seed in 0..20u64 {
        let mut rng = rng(100 + seed);
        let (m, n, k) = (4, 9, 3);
        let (a, b) = (random_i8(&mut rng, m * n), random_i8(&mut rng, n * k));
        let mut c = naive_matmul(&a, &b, m, n, k);
        c[seed as usize % (m * k)] += 1;
        assert!(session(a, b, c.clone(), c, Shape { m, n, k }, seed).is_err(), "seed {seed}");
    }
}

/// A whole model proof over the channel: the same driver (`ProveOptions::unchecked` so that a
/// cheating witness still reaches the verifier), with the verifier's own coins.
fn model_session(
    model: &gkrnet::circuit::Model,
    witness: gkrnet::circuit::Witness,
    seed: u64,
) -> Result<(), VerifyError> {
    let (mut p, mut v) = pair(seed);
    let verdict = std::thread::scope(|s| {
        let prover = s.spawn(move || {
            let _ = gkr::prove(
                model,
                &witness.tensors[0],
                &gkr::ProveOptions::default().with_witness(&witness).unchecked(),
                &mut p,
            );
        });
        let input =
            model.forward(&zoo::random_input(model, seed)).expect("forward").tensors[0].clone();
        let verdict =
            gkr::verify(model, &input, &gkr::VerifyOptions::default(), &mut v).map(|_| ());
        drop(v);
        prover.join().expect("prover thread");
        verdict
    });
    verdict
}

#[test]
fn model_proofs_run_interactively_and_a_wrong_output_is_rejected() {
    let model = zoo::mlp_act();
    for seed in 0..3u64 {
        let honest = model.forward(&zoo::random_input(&model, seed)).unwrap();
        model_session(&model, honest.clone(), seed).unwrap();
        let mut bad = honest;
        let last = bad.tensors.len() - 1;
        bad.tensors[last].data[seed as usize] += 1;
        assert!(model_session(&model, bad, seed).is_err(), "seed {seed}");
    }
}
