//! Proof bytes are pinned: the blake3 digest of the proof of each fixture (seeded models and
//! inputs, every advice mode, committed weights) is written here. A refactor that changes a
//! single byte of a proof fails this test; a deliberate change of the proof format bumps its
//! version and updates these digests in the same commit, with the reason.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use gkrnet::circuit::{zoo, Model};
use gkrnet::gkr::{self, AdviceMode, ProveOptions, VerifyOptions};
use gkrnet::pcs::basefold::Params;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The proof of `model` on its seeded input 7 under `mode`, and its digest.
fn digest(model: &Model, mode: AdviceMode) -> String {
    let input = zoo::random_input(model, 7);
    let proof = gkr::prove_bytes(model, &input, &ProveOptions::advice(mode)).expect("prove");
    assert!(gkr::verify_bytes(model, &input, &VerifyOptions::advice(mode), &proof.proof).is_ok());
    hex(blake3::hash(&proof.proof).as_bytes())
}

fn committed_digest(model: &Model, mode: AdviceMode) -> String {
    let input = zoo::random_input(model, 7);
    let (prover, wp) = gkr::commit_model(model, Params::PROVABLE).expect("commit");
    let opts = ProveOptions::advice(mode).with_weights(&wp);
    let proof = gkr::prove_bytes(&prover, &input, &opts).expect("prove");
    hex(blake3::hash(&proof.proof).as_bytes())
}

/// Compares every case and reports all differences at once.
fn check(cases: Vec<(&str, String, &str)>) {
    let wrong: Vec<String> = cases
        .iter()
        .filter(|(_, got, want)| got != want)
        .map(|(name, got, want)| format!("{name}: got {got}, pinned {want}"))
        .collect();
    assert!(wrong.is_empty(), "proof bytes changed:\n{}", wrong.join("\n"));
}

#[test]
fn fixture_proofs_are_byte_identical() {
    let act = zoo::mlp_act();
    let lenet = zoo::lenet5();
    let mlp = zoo::mlp4m();
    let random = zoo::random_model(3).unwrap();
    check(vec![
        (
            "mlp-act clear",
            digest(&act, AdviceMode::Clear),
            "2b7f9ec123070fe0e0224dcc85b860da00f4f2c7b7a0ba11d96827f7b6956068",
        ),
        (
            "mlp-act provable",
            digest(&act, AdviceMode::PROVABLE),
            "7a82633312bfc9ad2c000575f3de2297a48dcb7d6f5c8d6bf4cdf5176146d275",
        ),
        (
            "lenet5 clear",
            digest(&lenet, AdviceMode::Clear),
            "c3f33bd4e59ab0954007e04f52218d2c420d5a7d01182f9f6cf39b285102d07d",
        ),
        (
            "lenet5 conjectured",
            digest(&lenet, AdviceMode::CONJECTURED),
            "759f02f7abb1c9bbdf93af3a6ef1f7dae0e30934c9d78f50d1bb4658c94cd0a9",
        ),
        (
            "random-3 clear",
            digest(&random, AdviceMode::Clear),
            "82f8c5c45b40102ab7f085f18fb13909ef067370990bb7b4835d9203bfd95297",
        ),
        (
            "mlp4m clear",
            digest(&mlp, AdviceMode::Clear),
            "5e4456d3bc4ac865d74042a6c52ceacde819e0c0479038154a99dfff63ea97bc",
        ),
        (
            "mlp4m committed weights, clear",
            committed_digest(&mlp, AdviceMode::Clear),
            "8b3f6c6126d8cb0b8a69306f6747a7217c1119e610b8e95a5e70e554a8e43bc7",
        ),
        (
            "mlp4m committed weights, provable",
            committed_digest(&mlp, AdviceMode::PROVABLE),
            "f44d04cddb0707da72e6323f5fdaa6270429ae12e469598d42e849dccd210a15",
        ),
    ]);
}
