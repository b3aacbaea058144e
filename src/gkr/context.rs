//! What the prover's phases share: the model, its plan, the witness and its padded columns.

use super::plan::Plan;
use crate::circuit::{Model, Witness};

/// The prover's view of one proof.
pub(crate) struct ProverCtx<'a> {
    pub model: &'a Model,
    pub plan: Plan,
    pub witness: &'a Witness,
    /// Each layer's committed columns (its output if committed, then its advice), zero-padded
    /// to the layer's layout.
    pub padded_cols: Vec<Vec<Vec<i64>>>,
    /// Refuse to prove what does not hold (a cheating prover in the tests proves it anyway).
    pub strict: bool,
}

impl<'a> ProverCtx<'a> {
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: the plan has one layout per layer, checked against the witness by the caller"
    )]
    pub fn new(model: &'a Model, witness: &'a Witness, strict: bool) -> Self {
        let plan = Plan::new(model);
        let padded_cols = (0..model.layers.len())
            .map(|i| witness.columns(model, i).iter().map(|c| plan.layouts[i].pad(c)).collect())
            .collect();
        Self { model, plan, witness, padded_cols, strict }
    }
}
