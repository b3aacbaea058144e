//! The one prove/verify API in every combination (issue 18): Fiat–Shamir or interactive (the
//! verifier's own coins), weights held by the verifier or committed (a model commitment),
//! advice in the clear or committed with Basefold. Each combination proves and verifies the same
//! output as the integer reference, and each rejects a proof checked against another input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::channel::session;
use gkrnet::circuit::{zoo, Model, Tensor};
use gkrnet::error::VerifyError;
use gkrnet::gkr::{self, AdviceMode, KeyRef, ModelCommitment, ProveOptions, VerifyOptions};
use gkrnet::pcs::basefold::Params;

/// Small Basefold parameters: the combinations, not the security level, are under test.
const SMALL: Params = Params { rate_log: 1, queries: 12, fold_log: 3, pow_bits: 0 };

#[derive(Clone, Copy, Debug)]
enum Transcript {
    FiatShamir,
    Interactive,
}

/// A 256→128→10 MLP: its first matrix (2^15 weights) is large enough to be committed.
fn model() -> Model {
    zoo::mlp("combinations", &[256, 128, 10], 1, 5).unwrap()
}

/// Proves `input` and verifies against `claimed` (the input the verifier holds).
fn run(
    transcript: Transcript,
    prover_model: &Model,
    key: KeyRef<'_>,
    prove: &ProveOptions<'_>,
    verify: &VerifyOptions<'_>,
    input: &Tensor,
    claimed: &Tensor,
) -> Result<Tensor, VerifyError> {
    match transcript {
        Transcript::FiatShamir => {
            let proof = gkr::prove_bytes(prover_model, input, prove).expect("honest prover");
            gkr::verify_bytes(key, claimed, verify, &proof.proof)
        }
        Transcript::Interactive => session(
            7,
            |p| gkr::prove(prover_model, input, prove, p),
            |v| gkr::verify(key, claimed, verify, v),
        ),
    }
}

fn every_combination(transcript: Transcript) {
    let model = model();
    let input = zoo::random_input(&model, 1);
    let other = zoo::random_input(&model, 2);
    let expected = model.forward(&input).unwrap().output().clone();
    let (prover_copy, weights) = gkr::commit_model(&model, SMALL).unwrap();
    let stripped = ModelCommitment::stripped(&model).unwrap();
    let commitment = weights.commitment();
    let mut combinations = 0;
    for committed_weights in [false, true] {
        for advice in [AdviceMode::Clear, AdviceMode::Committed(SMALL)] {
            let case = format!(
                "{transcript:?}, committed weights {committed_weights}, advice {}",
                advice.name()
            );
            let (prover_model, key, prove) = if committed_weights {
                let key = KeyRef { model: &stripped, commitment: Some(&commitment) };
                (&prover_copy, key, ProveOptions::advice(advice).with_weights(&weights))
            } else {
                (&model, KeyRef::from(&model), ProveOptions::advice(advice))
            };
            let verify = VerifyOptions::advice(advice);
            let out = run(transcript, prover_model, key, &prove, &verify, &input, &input)
                .unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(out, expected, "{case}");
            let rebound = run(transcript, prover_model, key, &prove, &verify, &input, &other);
            assert!(rebound.is_err(), "{case}: a proof for another input was accepted");
            combinations += 1;
        }
    }
    assert_eq!(combinations, 4);
}

#[test]
fn every_combination_under_fiat_shamir() {
    every_combination(Transcript::FiatShamir);
}

#[test]
fn every_combination_interactively() {
    every_combination(Transcript::Interactive);
}

/// The weights a commitment holds are not in the verifier's model: verifying without the
/// commitment is refused before any message is read, and a prover whose model has committed
/// layers but no commitment in its options refuses to prove.
#[test]
fn committed_weights_need_their_commitment_on_both_sides() {
    let model = model();
    let input = zoo::random_input(&model, 1);
    let (prover_copy, weights) = gkr::commit_model(&model, SMALL).unwrap();
    let stripped = ModelCommitment::stripped(&model).unwrap();
    let proof =
        gkr::prove_bytes(&prover_copy, &input, &ProveOptions::default().with_weights(&weights))
            .unwrap();
    assert_eq!(
        gkr::verify_bytes(&stripped, &input, &VerifyOptions::default(), &proof.proof),
        Err(VerifyError::InvalidStatement {
            reason: "the model's weights are committed: a model commitment is needed"
        })
    );
    assert!(gkr::prove_bytes(&prover_copy, &input, &ProveOptions::default()).is_err());
}
