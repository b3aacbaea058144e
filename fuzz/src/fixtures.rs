//! The fixed keys and inputs every target verifies against. Shared by the fuzz targets and the
//! seed generator (`fuzz/seeds`, which includes this file by path), so that the seeds' digests
//! and roots are the targets' own.

use gkrnet::circuit::{zoo, Model, Tensor};
use gkrnet::gkr::{self, ModelCommitment, VerifierKey, WeightsProver};
use gkrnet::pcs::basefold::Params;

/// A model held whole: dense 16 → 8 → 4, batch 1.
pub fn clear_model() -> Model {
    zoo::mlp("fz", &[16, 8, 4], 1, 1).expect("a fixed, valid MLP")
}

/// The smallest MLP whose first matrix is committed (256·128 = `gkr::weights::MIN_COMMITTED`).
pub fn committed_full_model() -> Model {
    zoo::mlp("fzc", &[256, 128, 4], 1, 2).expect("a fixed, valid MLP")
}

pub fn input_for(model: &Model) -> Tensor {
    zoo::random_input(model, 1)
}

/// The prover's copy of the committed model and its weights (seeds only).
pub fn committed_prover() -> (Model, WeightsProver) {
    gkr::commit_model(&committed_full_model(), Params::CONJECTURED)
        .expect("the fixed MLP has a matrix to commit")
}

/// The verifier's key of the committed model: its stripped copy and the commitment.
pub fn committed_key(prover_model: &Model, weights: &WeightsProver) -> VerifierKey {
    let model = ModelCommitment::stripped(prover_model).expect("the prover's copy strips");
    VerifierKey::Committed { model, commitment: weights.commitment() }
}

/// The advice modes a proof stream is checked under, picked by the stream's first byte.
pub const MODES: [gkr::AdviceMode; 3] =
    [gkr::AdviceMode::Clear, gkr::AdviceMode::CONJECTURED, gkr::AdviceMode::PROVABLE];
