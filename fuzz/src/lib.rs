//! Fixtures shared by gkrnet's fuzz targets (see `fuzz/README.md`).

pub mod fixtures;

use gkrnet::circuit::{Model, Tensor};
use gkrnet::gkr::VerifierKey;
use std::sync::OnceLock;

/// Everything a target verifies against, built once per process.
pub struct Keys {
    pub clear: VerifierKey,
    pub clear_input: Tensor,
    pub committed: VerifierKey,
    pub committed_input: Tensor,
}

impl Keys {
    pub fn clear_model(&self) -> &Model {
        self.clear.model()
    }
}

pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let clear = fixtures::clear_model();
        let clear_input = fixtures::input_for(&clear);
        let prover = fixtures::committed_prover();
        let committed_input = fixtures::input_for(&prover.0);
        Keys {
            clear: VerifierKey::Model(clear),
            clear_input,
            committed: fixtures::committed_key(&prover.0, &prover.1),
            committed_input,
        }
    })
}
