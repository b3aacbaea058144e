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
            "530e70b11c511404d6daa5ede37e3cd6a967cb083b2a69cedd63475689861fdf",
        ),
        (
            "mlp-act provable",
            digest(&act, AdviceMode::PROVABLE),
            "2d35303f081122c386e254c90cdb87ef09c2a63e14a89ac49c493e4b871cab71",
        ),
        (
            "lenet5 clear",
            digest(&lenet, AdviceMode::Clear),
            "9c4565c2ad5edd72a6cd4b0a71ba0ecd00a8009424a54ceef16ed602fa2bbab4",
        ),
        (
            "lenet5 conjectured",
            digest(&lenet, AdviceMode::CONJECTURED),
            "6e5fff592494ce4c3905ca6eff63bbb5a433b903f15a64d30e4dac4614e13c0b",
        ),
        (
            "random-3 clear",
            digest(&random, AdviceMode::Clear),
            "4f751fdf5c5477529114c4fec084405469514e43a2b94cb04fa456eba6c5d33c",
        ),
        (
            "mlp4m clear",
            digest(&mlp, AdviceMode::Clear),
            "def08590068da56c8322f435a5f4c951b62383a1a487616a6fa64bcdb48f3ff1",
        ),
        (
            "mlp4m committed weights, clear",
            committed_digest(&mlp, AdviceMode::Clear),
            "428c28d2d27775840a3ada45ec2f24d7db9bc9f3d426b9d85b9c37a61032ecf3",
        ),
        (
            "mlp4m committed weights, provable",
            committed_digest(&mlp, AdviceMode::PROVABLE),
            "aa3b658200609f14fcec0885090c40df7503804515b9318dc121082c735c9b11",
        ),
    ]);
}
