//! Model commitments (issue 10): the large dense weight matrices committed once with Basefold;
//! the verifier holds the stripped model (no such weights) and the root.
//!
//! Covered: honest proofs for models with one or several committed matrices, under each advice
//! mode; the stripped model keeps the digest and round-trips through `.gkrm`; a proof checked
//! against another root, another model's commitment, or by a verifier without the commitment;
//! a cheating prover that commits other weights than the ones its claims use (swapped weights);
//! a stripped model cannot be run; byte flips never accepted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use gkrnet::circuit::{zoo, Model, Tensor};
use gkrnet::gkr::{self, AdviceMode, ModelCommitment};
use gkrnet::pcs::basefold::Params;
use gkrnet::VerifyError;
use rand::Rng;

const P: Params = Params::CONJECTURED;

/// A small MLP with two committed matrices (256×128 and 128×256) and a small clear one.
fn mlp() -> Model {
    zoo::mlp("mlp-commit", &[256, 128, 256, 10], 1, 7).expect("model")
}

fn setup(model: &Model, seed: u64) -> (Model, gkr::WeightsProver, Model, Tensor) {
    let (prover, wp) = gkr::commit_model(model, P).expect("commit");
    let stripped = ModelCommitment::stripped(model).expect("stripped");
    (prover, wp, stripped, zoo::random_input(model, seed))
}

#[test]
fn honest_proofs_verify_from_the_commitment_alone() {
    for model in [mlp(), zoo::lenet5()] {
        let (prover, wp, stripped, input) = setup(&model, 1);
        // the prover's copy digests as the verifier's (both encode the committed layers without
        // weights); the full model is another model
        assert_eq!(stripped.digest(), prover.digest());
        assert_ne!(stripped.digest(), model.digest());
        let committed: Vec<usize> = (0..stripped.layers.len())
            .filter(|&i| stripped.layers[i].weights_committed())
            .collect();
        assert!(!committed.is_empty());
        for &i in &committed {
            assert!(stripped.layers[i].weight_entries().is_none(), "layer {i} kept its weights");
        }
        // the stripped model round-trips through its encoding with the same digest
        let decoded = Model::decode(&stripped.encode()).expect("decode");
        assert_eq!(decoded.digest(), stripped.digest());
        for (seed, mode) in [AdviceMode::Clear, AdviceMode::CONJECTURED, AdviceMode::PROVABLE]
            .into_iter()
            .enumerate()
        {
            let input = zoo::random_input(&model, seed as u64 + 10);
            let p = gkr::prove_bytes(
                &prover,
                &input,
                &gkr::ProveOptions::advice(mode).with_weights(&wp),
            )
            .expect("prove");
            assert_eq!(p.output, model.forward(&input).expect("forward").output().clone());
            let c = wp.commitment();
            let out = gkr::verify_bytes(
                gkr::KeyRef { model: &decoded, commitment: Some(&c) },
                &input,
                &gkr::VerifyOptions::advice(mode),
                &p.proof,
            );
            assert_eq!(out.as_ref(), Ok(&p.output), "{} under {}", model.name, mode.name());
        }
        let _ = input;
    }
}

#[test]
fn another_root_or_no_commitment_is_rejected() {
    let model = mlp();
    let (prover, wp, stripped, input) = setup(&model, 2);
    let p = gkr::prove_bytes(
        &prover,
        &input,
        &gkr::ProveOptions::advice(AdviceMode::Clear).with_weights(&wp),
    )
    .expect("prove");
    let mut c = wp.commitment();
    c.root[0] ^= 1;
    assert!(gkr::verify_bytes(
        gkr::KeyRef { model: &stripped, commitment: Some(&c) },
        &input,
        &gkr::VerifyOptions::advice(AdviceMode::Clear),
        &p.proof
    )
    .is_err());
    // other parameters
    let c = ModelCommitment { params: Params::PROVABLE, ..wp.commitment() };
    assert!(gkr::verify_bytes(
        gkr::KeyRef { model: &stripped, commitment: Some(&c) },
        &input,
        &gkr::VerifyOptions::advice(AdviceMode::Clear),
        &p.proof
    )
    .is_err());
    // a verifier without the commitment
    let e = gkr::verify_bytes(&stripped, &input, &gkr::VerifyOptions::default(), &p.proof)
        .expect_err("no commitment");
    assert!(matches!(e, VerifyError::InvalidStatement { .. }), "{e:?}");
    // another model's commitment (same architecture, other weights)
    let other = zoo::mlp("mlp-commit", &[256, 128, 256, 10], 1, 8).expect("model");
    let (_, wp2) = gkr::commit_model(&other, P).expect("commit");
    let e = gkr::verify_bytes(
        gkr::KeyRef { model: &stripped, commitment: Some(&wp2.commitment()) },
        &input,
        &gkr::VerifyOptions::advice(AdviceMode::Clear),
        &p.proof,
    );
    assert!(e.is_err());
    // the plain model cannot be proved against a commitment it does not have, nor run stripped
    assert!(stripped.forward(&input).is_err());
}

#[test]
fn committing_other_weights_than_the_claims_use_is_rejected() {
    // the cheater commits a table of other weights (one entry changed) but proves the products
    // with the real ones, so every weight claim is about W while the root binds W′
    let model = mlp();
    let input = zoo::random_input(&model, 3);
    let (prover, _) = gkr::commit_model(&model, P).expect("commit");
    let stripped = ModelCommitment::stripped(&model).expect("stripped");
    for (layer, entry) in [(0usize, 5usize), (0, 1000), (2, 77)] {
        let mut specs: Vec<_> = model.layers.iter().map(|l| l.spec()).collect();
        let Some(gkrnet::circuit::DenseSpec { weights, .. }) = specs[layer].op_mut() else {
            panic!("layer {layer} is not dense")
        };
        weights[entry] = if weights[entry] < 100 { weights[entry] + 1 } else { weights[entry] - 1 };
        let layers = specs.iter().map(|s| s.build().expect("build")).collect();
        let tampered =
            Model::new(model.name.clone(), model.input_dims.clone(), layers).expect("model");
        let (_, wp_bad) = gkr::commit_model(&tampered, P).expect("commit");
        let wp_bad = wp_bad.unchecked();
        let p = gkr::prove_bytes(
            &prover,
            &input,
            &gkr::ProveOptions::advice(AdviceMode::Clear).with_weights(&wp_bad),
        )
        .expect("cheat");
        let c = wp_bad.commitment();
        let e = gkr::verify_bytes(
            gkr::KeyRef { model: &stripped, commitment: Some(&c) },
            &input,
            &gkr::VerifyOptions::advice(AdviceMode::Clear),
            &p.proof,
        )
        .expect_err("swapped weights accepted");
        assert!(matches!(e, VerifyError::Weights { .. }), "layer {layer} entry {entry}: {e:?}");
    }
}

#[test]
fn flipped_bytes_are_never_accepted() {
    let model = mlp();
    let (prover, wp, stripped, input) = setup(&model, 4);
    let p = gkr::prove_bytes(
        &prover,
        &input,
        &gkr::ProveOptions::advice(AdviceMode::Clear).with_weights(&wp),
    )
    .expect("prove");
    let c = wp.commitment();
    let mut rng = common::rng(5);
    for k in 0..600 {
        let mut bad = p.proof.clone();
        let i = rng.gen_range(0..bad.len());
        bad[i] ^= 1 << rng.gen_range(0..8);
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gkr::verify_bytes(
                gkr::KeyRef { model: &stripped, commitment: Some(&c) },
                &input,
                &gkr::VerifyOptions::advice(AdviceMode::Clear),
                &bad,
            )
        }));
        assert!(matches!(run, Ok(Err(_))), "flip {k} at byte {i}: {run:?}");
    }
}
